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
    /// The account the job runs as (nil: the agent's own, for a job from a controller that names none, or an
    /// agent that is not root and runs jobs as itself).
    var account: UnixAccount?
    /// The job's cgroups (nil where the node runs jobs uncontained, and for container jobs: docker contains those).
    var cgroup: JobCgroup?
    /// The node's GPU device nodes the job was not given, hidden from it, and the file mounted over them.
    var hiddenDevices: [String]?
    var deviceMask: String?
    /// The stage cache entries the job uses (`StageCache`).
    var stageKeys: [String]?
}

/// Why a launch cannot go ahead, in words for the job's owner ("command not found: trian").
struct LaunchError: Error, Sendable, CustomStringConvertible {
    let message: String
    /// The node's fault, not the job's (`AllocationStatusRequest.nodeFault`).
    var nodeFault = false
    init(_ message: String, nodeFault: Bool = false) {
        self.message = message
        self.nodeFault = nodeFault
    }
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
    /// The node, for messages ("no Unix account 'x' on node gpu-7").
    var nodeID: String
    /// The agent's own uid: only root switches accounts, makes cgroups and hides devices.
    var agentUID: uid_t
    /// How jobs are contained here; nil: uncontained (an admin allowed it).
    var containment: Containment?
    /// The node's GPU device nodes by index (`/dev/nvidia3` for GPU 3), those that exist.
    var gpuDevices: [Int: String]
    /// An empty file of mode 0000, mounted over the device nodes of GPUs a job was not given.
    var deviceMask: String
    /// Looks an account up in the node's user database (getpwnam_r; tests may answer otherwise).
    var lookup: @Sendable (String) -> UnixAccount? = { UnixAccount.lookup($0) }
}

extension LaunchPlan {
    /// Variables of the agent's own environment a job inherits; everything else (tokens included) stays out.
    static let inherited = ["PATH", "LANG", "LC_ALL", "TZ", "TERM", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR"]
    /// What a job running as an account of its own gets from that account instead of from the agent.
    static let fromAccount: Set<String> = ["HOME", "USER", "LOGNAME", "SHELL", "TMPDIR"]

    /// The plan for `spec` on this node. Checks what can be checked before anything starts: the working
    /// directory exists, the command can be found and executed, the node runs container jobs if asked to.
    static func make(_ spec: LaunchSpec, _ settings: LaunchSettings) throws(LaunchError) -> LaunchPlan {
        guard let first = spec.command.first, !first.isEmpty else { throw LaunchError("the job has no command") }
        let account = try account(spec, settings)
        let switching = settings.agentUID == 0
        var command = spec.command
        var env = spec.env
        if spec.image != nil {
            (command, env) = try containerCommand(spec, settings, account: account)
        }
        try checkDirectory(spec.cwd)
        if spec.image != nil, let account { try checkReachable(spec.cwd, by: account) }
        // The docker client runs as root in the node's context: it gets the agent's PATH, HOME and the like, never
        // the job's values of them (those reach the container by `--env NAME=VALUE`).
        let environment = environment(
            spec,
            env: env,
            agentEnvironment: settings.agentEnvironment,
            account: spec.image == nil ? account : nil
        )
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
                ? nil : ContainerJob.stopArguments(docker: executable, allocationID: spec.allocationId, grace: grace),
            account: switching && spec.image == nil ? account : nil,
            cgroup: spec.image == nil ? cgroup(spec, settings) : nil,
            hiddenDevices: spec.image == nil && settings.agentUID == 0 ? hiddenDevices(spec, settings) : nil,
            deviceMask: settings.deviceMask
        )
    }

    /// The device nodes of the node's GPUs the job was not given.
    static func hiddenDevices(_ spec: LaunchSpec, _ settings: LaunchSettings) -> [String] {
        settings.gpuDevices.filter { !spec.gpuIndices.contains($0.key) }.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The job's cgroups; with v1's devices controller, denying the GPUs it was not given.
    static func cgroup(_ spec: LaunchSpec, _ settings: LaunchSettings) -> JobCgroup? {
        guard var cgroup = settings.containment?.cgroup(for: spec.allocationId) else { return nil }
        if cgroup.devices != nil {
            cgroup.deniedDevices = hiddenDevices(spec, settings).compactMap(JobCgroup.denyRule(for:))
        }
        return cgroup
    }

    /// The account the job runs as, from the node's user database; a launch failure naming the account and
    /// the node where it has none (STARTING -> FAILED, not retried forever).
    static func account(_ spec: LaunchSpec, _ settings: LaunchSettings) throws(LaunchError) -> UnixAccount? {
        guard let name = spec.unixUser else {
            // An older controller names no account: a root agent would run the job as root. It does not.
            guard settings.agentUID != 0 else {
                throw LaunchError(
                    "the controller named no Unix account for this job, and node \(settings.nodeID) runs no job as "
                        + "root unasked: upgrade the controller"
                )
            }
            return nil
        }
        guard UnixAccountName.isValid(name) else {
            throw LaunchError("'\(name.prefix(64))' is not a Unix account name")
        }
        guard let account = settings.lookup(name) else {
            throw LaunchError(
                "no Unix account '\(name)' on node \(settings.nodeID): create it, or map the user to another"
            )
        }
        // Only the account named root is root, and only where the controller allowed it (`root_users`): an alias
        // with uid 0 (toor, an LDAP entry) does not slip past that check.
        if account.uid == 0 && name != "root" {
            throw LaunchError(
                "Unix account '\(name)' on node \(settings.nodeID) has uid 0: it is refused as root would be"
            )
        }
        if settings.agentUID != 0 && account.uid != settings.agentUID {
            throw LaunchError(
                "the agent on node \(settings.nodeID) does not run as root, so it cannot start jobs as \(name) "
                    + "(uid \(account.uid)); it runs jobs only as uid \(settings.agentUID)"
            )
        }
        return account
    }

    /// The job's environment: a few of the agent's variables, the job's own, and Corral's.
    static func environment(
        _ spec: LaunchSpec,
        env: [String: String],
        agentEnvironment: [String: String],
        account: UnixAccount? = nil
    ) -> [String: String] {
        var environment: [String: String] = [:]
        for name in inherited where account == nil || !fromAccount.contains(name) {
            if let value = agentEnvironment[name] { environment[name] = value }
        }
        if let account {
            environment["HOME"] = account.home
            environment["USER"] = account.name
            environment["LOGNAME"] = account.name
            if !account.shell.isEmpty { environment["SHELL"] = account.shell }
        }
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

    /// Starts the job's process: in its cgroups (made here, with the limits it asked for), with the GPUs it
    /// was not given hidden, as its account, in a new session (pgid = sid = pid), in its cwd, stdout and stderr
    /// appended to its log (which belongs to the account); returns the pid.
    func start() throws(LaunchError) -> pid_t {
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard log >= 0 else {
            throw LaunchError("cannot open log file \(logPath): \(String(cString: strerror(errno)))")
        }
        defer { close(log) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        if let account { _ = fchown(log, account.uid, account.gid) }
        if let cgroup {
            do {
                try cgroup.create(memory: spec.memory, cpus: spec.cpus)
            } catch {
                throw LaunchError("cannot make the job's cgroup: \(error)")
            }
        }
        var spawn = JobSpawn(executable: executable, arguments: arguments, environment: environment)
        spawn.workingDirectory = cwd
        spawn.input = null >= 0 ? null : nil
        spawn.output = log
        spawn.account = account
        spawn.cgroupProcs = cgroup?.procsFiles ?? []
        spawn.hiddenDevices = hiddenDevices ?? []
        spawn.mask = deviceMask
        for attempt in 0..<10 {
            do {
                return try Processes.spawn(spawn)
            } catch  where attempt < 9 && [EAGAIN, ETXTBSY, EINTR].contains(error.underlyingErrno ?? 0) {
                usleep(20_000)
            } catch {
                cgroup?.remove()
                throw LaunchError(error.message)
            }
        }
        throw LaunchError("cannot start \(arguments.first ?? executable)")
    }
}

extension JobExit {
    /// The exit code or the signal of a `waitpid` status.
    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? JobExit(code: (status >> 8) & 0xff) : JobExit(signal: signal)
    }
}
