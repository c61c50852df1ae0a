import CLinuxShims
import ClusterCore
import Glibc

/// Starts a job's process: in a new session (so it leads its own process group and a signal to `-pid` reaches
/// every descendant), in the job's cwd, with stdout and stderr appended to its log file, and with only the
/// environment the job should see.
enum JobLauncher {
    struct LaunchError: Error, Sendable, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// The decision of what to run, separate from running it (tests check it without spawning).
    struct Plan: Hashable, Sendable {
        var executable: String
        var arguments: [String]
        var environment: [String: String]
        var cwd: String
        var logPath: String
    }

    /// Variables of the agent's own environment a job inherits; everything else (tokens included) stays out.
    static let inherited = ["PATH", "LANG", "LC_ALL", "TZ", "TERM", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR"]

    static func plan(
        command: [String],
        cwd: String,
        env: [String: String],
        gpuIndices: [Int],
        jobID: String,
        allocationID: String,
        attempt: Int,
        logPath: String,
        agentEnvironment: [String: String]
    ) throws(LaunchError) -> Plan {
        var isDirectory = stat()
        guard stat(cwd, &isDirectory) == 0 else {
            throw LaunchError(message: "working directory \(cwd) does not exist on this node")
        }
        guard (isDirectory.st_mode & S_IFMT) == S_IFDIR else {
            throw LaunchError(message: "working directory \(cwd) is not a directory")
        }
        var environment: [String: String] = [:]
        for name in inherited { if let value = agentEnvironment[name] { environment[name] = value } }
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        for (key, value) in env { environment[key] = value }
        environment["CUDA_VISIBLE_DEVICES"] = gpuIndices.map(String.init).joined(separator: ",")
        // CUDA numbers GPUs fastest-first by default; PCI order matches nvidia-smi's indices, which we allocate.
        environment["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        environment["CORRAL_JOB_ID"] = jobID
        environment["CORRAL_ALLOCATION_ID"] = allocationID
        environment["CORRAL_ATTEMPT"] = String(attempt)
        let executable = try resolve(command[0], cwd: cwd, path: environment["PATH"] ?? "")
        return Plan(executable: executable, arguments: command, environment: environment, cwd: cwd, logPath: logPath)
    }

    /// Finds the program as a shell would: a name with a slash is a path (relative to cwd), else PATH is searched.
    static func resolve(_ program: String, cwd: String, path: String) throws(LaunchError) -> String {
        if program.contains("/") {
            let full = program.hasPrefix("/") ? program : cwd + "/" + program
            guard access(full, F_OK) == 0 else { throw LaunchError(message: "command not found: \(program)") }
            guard access(full, X_OK) == 0 else { throw LaunchError(message: "permission denied: \(program)") }
            return full
        }
        var denied = false
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 {
                var info = stat()
                if stat(candidate, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG { return candidate }
            } else if access(candidate, F_OK) == 0 {
                denied = true
            }
        }
        throw LaunchError(message: denied ? "permission denied: \(program)" : "command not found: \(program)")
    }

    /// Spawns the plan; returns the pid, which is also the process group and session id.
    /// `stdin`: a descriptor to read instead of /dev/null (the supervisor zygote's request pipe).
    static func spawn(_ plan: Plan, stdin: Int32? = nil) throws(LaunchError) -> pid_t {
        let logFD = open(plan.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard logFD >= 0 else {
            throw LaunchError(message: "cannot open log file \(plan.logPath): \(String(cString: strerror(errno)))")
        }
        defer { close(logFD) }
        let nullFD = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if nullFD >= 0 { close(nullFD) } }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // SETSID alone: glibc calls setsid() in the child, making pgid = sid = pid. Never combine with SETPGROUP.
        posix_spawnattr_setflags(
            &attributes,
            Int16(clinux_spawn_setsid) | Int16(POSIX_SPAWN_SETSIGMASK) | Int16(POSIX_SPAWN_SETSIGDEF)
        )

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, STDIN_FILENO)
        } else if nullFD >= 0 {
            posix_spawn_file_actions_adddup2(&actions, nullFD, STDIN_FILENO)
        }
        posix_spawn_file_actions_adddup2(&actions, logFD, STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, logFD, STDERR_FILENO)
        clinux_spawn_file_actions_addchdir(&actions, plan.cwd)
        clinux_spawn_file_actions_addclosefrom(&actions, 3)

        let argv = plan.arguments.map { strdup($0) } + [nil]
        let envp = plan.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        var result: Int32 = EAGAIN
        for _ in 0..<5 where result == EAGAIN {
            result = posix_spawn(&pid, plan.executable, &actions, &attributes, argv, envp)
        }
        guard result == 0 else {
            let reason = String(cString: strerror(result))
            switch result {
            case ENOENT:
                throw LaunchError(message: "cannot start \(plan.arguments[0]): \(reason) (command or cwd missing)")
            case EACCES: throw LaunchError(message: "permission denied: \(plan.arguments[0])")
            default: throw LaunchError(message: "cannot start \(plan.arguments[0]): \(reason)")
            }
        }
        return pid
    }

    /// Blocks (call it from a thread of its own) until the process ends: a child is reaped; any other process
    /// (a supervisor an earlier agent started) is watched through a pidfd, or by polling on kernels before 5.3.
    static func waitForExit(_ pid: pid_t, child: Bool) {
        if child {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return
        }
        let descriptor = clinux_pidfd_open(pid, 0)
        if descriptor >= 0 {
            defer { close(descriptor) }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            while poll(&entry, 1, -1) < 0 && errno == EINTR {}
            return
        }
        while alive(pid) { usleep(200_000) }
    }

    static func alive(_ pid: pid_t) -> Bool { pid > 1 && kill(pid, 0) == 0 }

    /// Signals the job's whole process group (grandchildren included).
    static func signalGroup(_ pid: pid_t, _ signal: Int32) {
        if pid > 1 { kill(-pid, signal) }
    }

    /// Whether any process of the group is still alive.
    static func groupAlive(_ pid: pid_t) -> Bool { pid > 1 && kill(-pid, 0) == 0 }
}

extension JobExit {
    /// The exit code or the signal of a `waitpid` status.
    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? JobExit(code: (status >> 8) & 0xff) : JobExit(signal: signal)
    }
}
