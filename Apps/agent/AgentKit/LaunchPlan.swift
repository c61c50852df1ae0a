import ClusterCore
import ClusterWire
import Glibc
import LinuxSystem

/// What one allocation runs, decided once from the launch message and the node's settings: the agent writes it
/// as the job record's launch.json, the supervisor reads it and runs it. The one plan type between the wire's
/// `LaunchSpec` and the job's process. Its JSON keys are the record format (records of a running job must stay
/// readable by the next agent version): never rename a field.
struct LaunchPlan: Codable, Hashable, Sendable {
    var spec: LaunchSpec
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var cwd: String
    var logPath: String
    /// SIGTERM (or `stopCommand`), then this many seconds, then SIGKILL to the whole group.
    var graceSeconds: Int
    /// The agent's lease file: the supervisor fences the job when the agent has not renewed it in time.
    var leasePath: String
    /// The boot the job started in: after a reboot the job is gone, whatever the files say.
    var bootId: String?
    /// Container jobs stop through `docker stop -t GRACE NAME` rather than a signal to the docker client.
    var stopCommand: [String]?
}

/// Why a launch cannot go ahead, in words for the job's owner ("command not found: trian").
struct LaunchError: Error, Sendable, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// What of the node a plan depends on.
struct LaunchSettings: Sendable {
    var logDir: String
    var leasePath: String
    var bootID: String?
    /// The docker CLI, when this node runs container jobs.
    var docker: String?
    /// The agent's default grace, for jobs that give none.
    var killGraceSeconds: Int
    /// The agent's own environment, of which a job inherits only `LaunchPlan.inherited`.
    var agentEnvironment: [String: String]
    /// Who container jobs run as.
    var user: (uid: uid_t, gid: gid_t)
}

extension LaunchPlan {
    /// Variables of the agent's own environment a job inherits; everything else (tokens included) stays out.
    static let inherited = ["PATH", "LANG", "LC_ALL", "TZ", "TERM", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR"]

    /// The plan for `spec` on this node. Checks what can be checked before anything starts: the working
    /// directory exists, the command can be found and executed, the node runs container jobs if asked to.
    static func make(_ spec: LaunchSpec, _ settings: LaunchSettings) throws(LaunchError) -> LaunchPlan {
        guard let first = spec.command.first, !first.isEmpty else { throw LaunchError("the job has no command") }
        var command = spec.command
        var env = spec.env
        if spec.image != nil {
            guard let docker = settings.docker else {
                throw LaunchError("this node runs no container jobs: set [containers] docker in its agent.toml")
            }
            command = ContainerJob.runArguments(
                docker: docker,
                spec: spec,
                environmentNames: ContainerJob.environmentNames(spec),
                user: settings.user
            )
            if spec.gpuIndices.isEmpty { env["NVIDIA_VISIBLE_DEVICES"] = "void" }
        }
        try checkDirectory(spec.cwd)
        let environment = environment(spec, env: env, agentEnvironment: settings.agentEnvironment)
        let executable = try resolve(command[0], cwd: spec.cwd, path: environment["PATH"] ?? "")
        let grace = spec.killGrace ?? settings.killGraceSeconds
        return LaunchPlan(
            spec: spec,
            executable: executable,
            arguments: command,
            environment: environment,
            cwd: spec.cwd,
            logPath: "\(settings.logDir)/\(spec.allocationId).log",
            graceSeconds: grace,
            leasePath: settings.leasePath,
            bootId: settings.bootID,
            stopCommand: spec.image == nil
                ? nil : ContainerJob.stopArguments(docker: executable, allocationID: spec.allocationId, grace: grace)
        )
    }

    /// The job's environment: a few of the agent's variables, the job's own, and Corral's.
    static func environment(
        _ spec: LaunchSpec,
        env: [String: String],
        agentEnvironment: [String: String]
    ) -> [String: String] {
        var environment: [String: String] = [:]
        for name in inherited { if let value = agentEnvironment[name] { environment[name] = value } }
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        for (key, value) in env { environment[key] = value }
        environment["CUDA_VISIBLE_DEVICES"] = spec.gpuIndices.map(String.init).joined(separator: ",")
        // CUDA numbers GPUs fastest-first by default; PCI order matches nvidia-smi's indices, which we allocate.
        environment["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        environment["CORRAL_JOB_ID"] = spec.jobId
        environment["CORRAL_ALLOCATION_ID"] = spec.allocationId
        environment["CORRAL_ATTEMPT"] = String(spec.attempt)
        return environment
    }

    static func checkDirectory(_ cwd: String) throws(LaunchError) {
        var info = stat()
        guard stat(cwd, &info) == 0 else { throw LaunchError("working directory \(cwd) does not exist on this node") }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw LaunchError("working directory \(cwd) is not a directory")
        }
    }

    /// Finds the program as a shell would: a name with a slash is a path (relative to cwd), else PATH is searched.
    static func resolve(_ program: String, cwd: String, path: String) throws(LaunchError) -> String {
        if program.contains("/") {
            let full = program.hasPrefix("/") ? program : cwd + "/" + program
            guard access(full, F_OK) == 0 else { throw LaunchError("command not found: \(program)") }
            guard access(full, X_OK) == 0 else { throw LaunchError("permission denied: \(program)") }
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
        throw LaunchError(denied ? "permission denied: \(program)" : "command not found: \(program)")
    }

    /// Starts the job's process in a new session (pgid = sid = pid, so a signal to `-pid` reaches every
    /// descendant), in its cwd, stdout and stderr appended to its log; returns the pid.
    func start() throws(LaunchError) -> pid_t {
        let options = SpawnOptions(grouping: .newSession, output: .appending(toFile: logPath), workingDirectory: cwd)
        do {
            return try Processes.spawn(executable, arguments: arguments, environment: environment, options: options)
        } catch {
            throw LaunchError(error.message)
        }
    }
}

extension JobExit {
    /// The exit code or the signal of a `waitpid` status.
    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? JobExit(code: (status >> 8) & 0xff) : JobExit(signal: signal)
    }
}
