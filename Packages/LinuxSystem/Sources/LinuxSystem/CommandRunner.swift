internal import CLinuxShims
internal import Glibc

/// Runs short external commands (`nvidia-smi`, `docker info`) with a hard timeout.
///
/// The child is started by `Processes.spawn` in its own process group, found on PATH, with stdin on
/// `/dev/null` (or a pipe holding `input`), an empty signal mask and default dispositions for the usual
/// signals. Its stdout and stderr come back through pipes, each capped at `outputLimit`. On timeout the whole process
/// group gets SIGKILL, is reaped, and `run` throws `.timedOut`. A child stuck in uninterruptible sleep
/// (a GPU driver wedged in the kernel can do that to `nvidia-smi`) cannot be reaped at once: `run` still
/// returns, and a detached thread reaps the child whenever it finally dies. `run` never blocks forever.
public enum CommandRunner {
    /// Most bytes kept from each of stdout and stderr.
    public static let outputLimit = 4 << 20

    /// How long `run` waits for a SIGKILLed child to be reaped before handing it to a background thread.
    static let reapGrace: Duration = .seconds(2)

    public static func run(
        _ executable: String,
        _ arguments: [String],
        timeout: Duration,
        environment: [String: String]? = nil,
        input: [UInt8]? = nil
    ) throws(ProcessError) -> CommandResult {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        // Standard input is /dev/null, or a pipe holding `input` (a secret, e.g. docker login's password,
        // which must never be an argument). At most one pipe buffer: written whole before the child reads.
        var stdinPipe: (read: Int32, write: Int32)?
        if let input {
            guard input.count <= 16384 else {
                throw ProcessError(.io, "standard input for \(executable) is too long")
            }
            stdinPipe = try makePipe()
            _ = fcntl(stdinPipe!.read, F_SETFL, fcntl(stdinPipe!.read, F_GETFL) & ~O_NONBLOCK)
            let written = input.withUnsafeBytes { write(stdinPipe!.write, $0.baseAddress, $0.count) }
            close(stdinPipe!.write)
            guard written == input.count else {
                close(stdinPipe!.read)
                throw ProcessError(.io, "cannot pass standard input to \(executable)")
            }
        }
        defer { if let stdinPipe { close(stdinPipe.read) } }

        let stdoutPipe = try makePipe()
        let stderrPipe: (read: Int32, write: Int32)
        do {
            stderrPipe = try makePipe()
        } catch {
            close(stdoutPipe.read)
            close(stdoutPipe.write)
            throw error
        }

        let options = SpawnOptions(
            grouping: .newProcessGroup,
            input: stdinPipe.map { .descriptor($0.read) } ?? .null,
            output: .descriptors(stdout: stdoutPipe.write, stderr: stderrPipe.write),
            searchesPath: true
        )
        let spawned = Result { () throws(ProcessError) in
            try Processes.spawn(
                executable,
                arguments: [executable] + arguments,
                environment: environment ?? Processes.currentEnvironment(),
                options: options
            )
        }
        close(stdoutPipe.write)
        close(stderrPipe.write)
        let pid: pid_t
        switch spawned {
        case .success(let child):
            pid = child
        case .failure(let error):
            close(stdoutPipe.read)
            close(stderrPipe.read)
            throw error
        }

        var outputs = [Output(fd: stdoutPipe.read), Output(fd: stderrPipe.read)]
        defer {
            for output in outputs where output.fd >= 0 { close(output.fd) }
        }
        var waitStatus: Int32?
        while true {
            let now = clock.now
            if now >= deadline {
                killAndReap(pid, clock: clock)
                throw ProcessError(
                    .timedOut,
                    "\(executable) timed out after \(describe(timeout)); its process group was killed"
                )
            }
            let slice = min(milliseconds(deadline - now), 50)
            if outputs.contains(where: { $0.fd >= 0 }) {
                var pollFDs = outputs.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
                let ready = poll(&pollFDs, nfds_t(pollFDs.count), Int32(max(slice, 1)))
                if ready > 0 {
                    for position in outputs.indices where pollFDs[position].revents != 0 {
                        outputs[position].drain()
                    }
                }
            } else {
                // Both pipes are closed; the child is exiting (or a grandchild kept nothing open).
                usleep(UInt32(min(max(slice, 1), 5)) * 1000)
            }
            switch reap(pid, blocking: false) {
            case .running:
                continue
            case .exited(let status):
                waitStatus = status
            case .lost:
                throw ProcessError(
                    .io,
                    "lost track of \(executable) (pid \(pid)): waitpid failed with ECHILD",
                    underlyingErrno: ECHILD
                )
            }
            break
        }
        // The child has exited: take what is left in the pipes without waiting for grandchildren that may
        // still hold them open.
        for position in outputs.indices { outputs[position].drain() }
        return CommandResult(
            status: exitCode(waitStatus ?? 0),
            stdout: String(decoding: outputs[0].bytes, as: UTF8.self),
            stderr: String(decoding: outputs[1].bytes, as: UTF8.self),
            outputTruncated: outputs.contains { $0.truncated }
        )
    }

    /// `10s`, `300ms`, `1.5s`.
    public static func describe(_ duration: Duration) -> String {
        let ms = milliseconds(duration)
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        if ms < 1000 { return "\(ms)ms" }
        return "\(Double(ms) / 1000)s"
    }

    // MARK: - Internals

    private struct Output {
        var fd: Int32
        var bytes: [UInt8] = []
        var truncated = false

        init(fd: Int32) { self.fd = fd }

        /// Reads everything available now (the fd is non-blocking); closes the fd at end of file.
        mutating func drain() {
            guard fd >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    let room = CommandRunner.outputLimit - bytes.count
                    if room >= count {
                        bytes.append(contentsOf: buffer[0..<count])
                    } else {
                        bytes.append(contentsOf: buffer[0..<max(room, 0)])
                        truncated = true
                    }
                    continue
                }
                if count == -1 && errno == EINTR { continue }
                if count == 0 || errno != EAGAIN {
                    close(fd)
                    fd = -1
                }
                return
            }
        }
    }

    private enum ReapResult {
        case running
        case exited(Int32)
        case lost
    }

    private static func reap(_ pid: pid_t, blocking: Bool) -> ReapResult {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { return .exited(status) }
            if result == 0 { return .running }
            if errno == EINTR { continue }
            return .lost
        }
    }

    private static func killAndReap(_ pid: pid_t, clock: ContinuousClock) {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        let giveUp = clock.now.advanced(by: reapGrace)
        while clock.now < giveUp {
            switch reap(pid, blocking: false) {
            case .exited, .lost:
                return
            case .running:
                usleep(2000)
            }
        }
        // Stuck in the kernel (D state): reap it in the background whenever it dies.
        Threads.detach { _ = reap(pid, blocking: true) }
    }

    /// Exit code, or 128 + signal when a signal ended the child (the W* macros are not imported).
    private static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? Int64.max / 2 : ms + attoseconds / 1_000_000_000_000_000
    }

    private static func makePipe() throws(ProcessError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        // Close-on-exec, so children that other threads spawn meanwhile do not inherit (and hold open) them;
        // the child's dup2 onto 0, 1 and 2 clears the flag there.
        guard clinux_pipe2(&fds, O_CLOEXEC) == 0 else {
            let code = errno
            throw ProcessError(.io, "pipe() failed: \(String(cString: strerror(code)))", underlyingErrno: code)
        }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        return (fds[0], fds[1])
    }
}
