import Glibc

/// The top of each binary's `main.swift`: runs the command on Swift's global executor and exits with its code,
/// while the main thread only waits.
///
/// An async `main.swift` would hand the main thread to `dispatch_main`, which ends it with `pthread_exit`, and
/// glibc unwinds a thread's stack to end it: the unwinder reads the binary's unwind tables (`.eh_frame_hdr`,
/// `.eh_frame`) for each frame. That is about 0.5 MB of an idle agent's resident memory, and work at every
/// command's start (issue 16). Nothing in Corral runs on the main actor, so nothing needs the main queue.
public enum CommandMain {
    public static func run(_ command: @escaping @Sendable () async -> Int32) -> Never {
        // The main thread starts blocking no signal, so that a signal has a thread to go to: a process inherits
        // its parent's signal mask across exec, and one started from a worker thread of another Swift program (a
        // test's `Process`) began with SIGTERM and SIGINT blocked on every thread, so `stop` never reached it. The
        // runtime's own threads block them when they start; libdispatch's handler takes it from there.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        Task.detached { exit(await command()) }
        // pause() returns after each caught signal; the command's own end exits the process.
        while true { pause() }
    }

    /// Ends the process with `code`, for a command done before `run` (stdout flushed).
    public static func exit(_ code: Int32) -> Never {
        Glibc.exit(code)
    }
}
