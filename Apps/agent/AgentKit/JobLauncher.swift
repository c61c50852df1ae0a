import ClusterCore
import Glibc
import LinuxSystem

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

    /// Spawns the plan in a new session (pgid = sid = pid, so a signal to `-pid` reaches every descendant),
    /// in its cwd, stdout and stderr appended to its log file; returns the pid, which is also the process
    /// group and session id. `stdin`: a descriptor to read instead of /dev/null (the supervisor zygote's
    /// request pipe).
    static func spawn(_ plan: Plan, stdin: Int32? = nil) throws(LaunchError) -> pid_t {
        let options = SpawnOptions(
            grouping: .newSession,
            input: stdin.map { .descriptor($0) } ?? .null,
            output: .appending(toFile: plan.logPath),
            workingDirectory: plan.cwd
        )
        do {
            return try Processes.spawn(
                plan.executable,
                arguments: plan.arguments,
                environment: plan.environment,
                options: options
            )
        } catch {
            throw LaunchError(message: error.message)
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
