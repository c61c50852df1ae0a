import CLinuxShims
import ClusterWire
import CorralSupport
import Glibc
import LinuxSystem

/// Starts job supervisors cheaply. Executing the agent binary for every job costs a dynamic load of ~50
/// libraries (libcurl's dependencies are most of them): about 11 ms of CPU per job on the bench machine,
/// which capped job starts at a quarter of what they were without supervisors. So the agent starts one
/// zygote (`corral-agent supervise-zygote`, exec'd once) and hands it job directories, one per line, on a
/// pipe. The zygote is single-threaded, so it may fork: each child starts a session of its own and becomes a
/// supervisor. The zygote ignores SIGCHLD, so the kernel reaps its children and it never waits; when it ends
/// (the agent closed the pipe or died) its supervisors pass to init and run on. It decodes and encodes the
/// record types once before it serves, so the Swift runtime's lazily built metadata is already there in every
/// child (`perf` showed each fresh supervisor rebuilding it).
enum SupervisorZygote {
    static let command = "supervise-zygote"

    static func main() -> Int32 {
        for number in [SIGINT, SIGHUP, SIGTERM, SIGPIPE, SIGCHLD] { signal(number, SIG_IGN) }
        warmUp()
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

    /// The supervisor: a child in a session of its own, reaped by the kernel (SIGCHLD is ignored here).
    static func start(_ directory: String) {
        guard clinux_fork() == 0 else { return }
        // In the child. Safe to go on in Swift: the zygote has never had a second thread.
        setsid()
        close(STDIN_FILENO)
        _ = open("/dev/null", O_RDONLY)
        let log = open(directory + "/supervisor.log", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if log >= 0 {
            dup2(log, STDOUT_FILENO)
            dup2(log, STDERR_FILENO)
            close(log)
        }
        signal(SIGCHLD, SIG_DFL)  // the supervisor waits for its job
        _exit(Supervisor.main(directory: directory))
    }

    /// Runs the record types through JSON once, so children inherit the runtime's metadata caches.
    static func warmUp() {
        let spec = LaunchSpec(
            allocationId: "warm.1",
            jobId: "warm",
            attempt: 1,
            name: "",
            user: "",
            command: ["true"],
            cwd: "/",
            env: ["A": "B"],
            gpuIndices: [0],
            cpus: 1,
            memory: 0,
            image: nil,
            timeLimit: 1,
            killGrace: 1
        )
        let plan = LaunchPlan(
            spec: spec,
            executable: "/bin/true",
            arguments: ["true"],
            environment: ["A": "B"],
            cwd: "/",
            logPath: "/dev/null",
            graceSeconds: 1,
            leasePath: "/nonexistent",
            bootId: nil,
            stopCommand: ["x"],
            account: UnixAccount(name: "w", uid: 1, gid: 1, groups: [1], home: "/", shell: "/bin/sh"),
            cgroup: JobCgroup(tracking: .init(directory: "/x", unified: true), memory: nil, cpu: nil, cpuacct: nil),
            hiddenDevices: [],
            deviceMask: "/x"
        )
        let exit = SupervisorExit(code: 0, stopReason: .cancel, endedAtMs: 0, cpuSeconds: 0, maxResidentBytes: 0)
        _ = JobRecord.decode(LaunchPlan.self, Array(JobRecord.encode(plan).utf8))
        _ = JobRecord.decode(SupervisorExit.self, Array(JobRecord.encode(exit).utf8))
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

    /// Closes the zygote's pipe, so it ends (its supervisors run on), and reaps it: before the agent re-executes
    /// itself, which would otherwise leave it a zombie child the new image knows nothing of.
    mutating func stop() {
        guard pipe >= 0 else { return }
        close(pipe)
        pipe = -1
        for _ in 0..<100 where waitpid(pid, nil, WNOHANG) == 0 { usleep(10_000) }
    }

    private mutating func launch(executable: String, log: String) {
        if pipe >= 0 { close(pipe) }
        pipe = -1
        var fds: [Int32] = [-1, -1]
        guard clinux_pipe2(&fds, Int32(O_CLOEXEC)) == 0 else { return }
        defer { close(fds[0]) }
        let spawned: pid_t
        do {
            spawned = try Processes.spawn(
                executable,
                arguments: [executable, SupervisorZygote.command],
                environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
                options: SpawnOptions(
                    grouping: .newSession,
                    input: .descriptor(fds[0]),
                    output: .appending(toFile: log),
                    workingDirectory: "/"
                )
            )
        } catch {
            close(fds[1])
            return
        }
        pid = spawned
        pipe = fds[1]
    }
}
