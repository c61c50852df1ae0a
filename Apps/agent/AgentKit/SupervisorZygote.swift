import CLinuxShims
import CorralSupport
import Glibc

/// Starts job supervisors cheaply. Executing the agent binary for every job costs a dynamic load of ~50
/// libraries (libcurl's dependencies are most of them): about 11 ms of CPU per job on the bench machine,
/// which capped job starts at a quarter of what they were without supervisors. So the agent starts one
/// zygote (`corral-agent supervise-zygote`, exec'd once) and hands it job directories, one per line, on a
/// pipe. The zygote is single-threaded, so it may fork: a first child starts a new session and forks the
/// supervisor, then exits at once, so the supervisor belongs to neither the zygote nor the agent and
/// outlives both. The zygote ends when the agent closes the pipe (or dies).
enum SupervisorZygote {
    static let command = "supervise-zygote"

    static func main() -> Int32 {
        for number in [SIGINT, SIGHUP, SIGTERM, SIGPIPE] { signal(number, SIG_IGN) }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return 0 }  // the agent is gone
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                let directory = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if directory.hasPrefix("/") { start(directory) }
            }
        }
    }

    /// Double fork: the supervisor ends up a child of init (or of a subreaper) in a session of its own.
    static func start(_ directory: String) {
        let child = clinux_fork()
        guard child == 0 else {
            if child > 0 { while waitpid(child, nil, 0) < 0 && errno == EINTR {} }
            return
        }
        // In the first child: only async-signal-safe calls until the supervisor's own code runs, which is
        // safe here too because the zygote has never had a second thread.
        setsid()
        if clinux_fork() != 0 { _exit(0) }
        close(STDIN_FILENO)
        _ = open("/dev/null", O_RDONLY)
        let log = open(directory + "/supervisor.log", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if log >= 0 {
            dup2(log, STDOUT_FILENO)
            dup2(log, STDERR_FILENO)
            close(log)
        }
        signal(SIGCHLD, SIG_DFL)
        _exit(Supervisor.main(directory: directory))
    }
}

/// The agent's side: the zygote's pid and the write end of its pipe. Falls back to executing a supervisor
/// directly when the zygote cannot be started or has died and cannot be replaced.
struct ZygoteHandle {
    var pid: pid_t = 0
    var pipe: Int32 = -1

    /// Hands the directory to the zygote; false when none is running and none could be started.
    mutating func start(_ directory: String, executable: String, log: String) -> Bool {
        for _ in 0..<2 {
            if pipe < 0 || waitpid(pid, nil, WNOHANG) != 0 { launch(executable: executable, log: log) }
            guard pipe >= 0 else { return false }
            let line = Array((directory + "\n").utf8)
            // Under PIPE_BUF bytes: written whole or not at all. EPIPE (SIGPIPE is ignored) means it died.
            let written = line.withUnsafeBytes { write(pipe, $0.baseAddress, $0.count) }
            if written == line.count { return true }
            close(pipe)
            pipe = -1
        }
        return false
    }

    private mutating func launch(executable: String, log: String) {
        if pipe >= 0 { close(pipe) }
        pipe = -1
        var fds: [Int32] = [-1, -1]
        guard clinux_pipe2(&fds, Int32(O_CLOEXEC)) == 0 else { return }
        defer { close(fds[0]) }
        let plan = JobLauncher.Plan(
            executable: executable,
            arguments: [executable, SupervisorZygote.command],
            environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
            cwd: "/",
            logPath: log
        )
        guard let spawned = try? JobLauncher.spawn(plan, stdin: fds[0]) else {
            close(fds[1])
            return
        }
        pid = spawned
        pipe = fds[1]
    }
}
