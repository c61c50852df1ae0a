internal import CLinuxShims
internal import Glibc

/// How to start a job's process where posix_spawn cannot: as another account, in cgroups, with device nodes
/// hidden in a mount namespace of its own, or inside a running job's mount namespace (`corral exec`).
public struct JobSpawn: Sendable, Hashable {
    public var executable: String
    /// The whole argv, argv[0] included.
    public var arguments: [String]
    public var environment: [String: String]
    public var workingDirectory: String?
    /// Descriptors of the caller for the child's stdin and for its stdout and stderr; nil keeps the caller's.
    public var input: Int32?
    public var output: Int32?
    public var newSession = true
    /// The account to become; nil keeps the caller's.
    public var account: UnixAccount?
    /// `cgroup.procs` (or v1 `tasks`) files the child writes itself into before anything else.
    public var cgroupProcs: [String] = []
    /// A running process's mount namespace (`/proc/PID/ns/mnt`) to enter.
    public var mountNamespace: String?
    /// Device nodes to hide: in a private mount namespace, `mask` (an empty file of mode 0000) is bind-mounted
    /// over each of them, so an unprivileged process cannot open them.
    public var hiddenDevices: [String] = []
    public var mask: String?

    public init(executable: String, arguments: [String], environment: [String: String]) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
    }
}

extension Processes {
    /// Forks and execs `spawn`; returns the pid once the exec went through. A failure names its step: "cannot
    /// become alice (uid 1001): Operation not permitted", "cannot enter /data as alice: Permission denied".
    public static func spawn(_ spawn: JobSpawn) throws(ProcessError) -> Int32 {
        let name = spawn.arguments.first ?? spawn.executable
        var stage: Int32 = 0
        var code: Int32 = 0
        let pid = withCStrings(spawn.arguments) { argv in
            withCStrings(spawn.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }) { envp in
                withCStrings(spawn.cgroupProcs) { procs in
                    withCStrings(spawn.hiddenDevices) { hidden in
                        spawn.account.map(\.groups).withUnsafeGroups { groups in
                            var request = clinux_job_spawn()
                            request.argv = UnsafePointer(argv)
                            request.envp = UnsafePointer(envp)
                            request.input_fd = spawn.input ?? -1
                            request.output_fd = spawn.output ?? -1
                            request.new_session = spawn.newSession ? 1 : 0
                            if let account = spawn.account {
                                request.set_identity = 1
                                request.uid = account.uid
                                request.gid = account.gid
                                request.groups = groups.baseAddress
                                request.group_count = Int32(groups.count)
                            }
                            request.cgroup_procs = constStrings(procs)
                            request.cgroup_count = Int32(spawn.cgroupProcs.count)
                            request.hidden_devices = constStrings(hidden)
                            request.hidden_count = Int32(spawn.hiddenDevices.count)
                            return spawn.executable.withCString { path in
                                request.path = path
                                return optionalCString(spawn.workingDirectory) { cwd in
                                    request.cwd = cwd
                                    return optionalCString(spawn.mountNamespace) { namespace in
                                        request.mount_namespace = namespace
                                        return optionalCString(spawn.mask) { mask in
                                            request.mask_path = mask
                                            return clinux_job_spawn(&request, &stage, &code)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard pid < 0 else { return pid }
        throw spawnFailure(spawn, name: name, stage: stage, code: code)
    }

    private static func spawnFailure(_ spawn: JobSpawn, name: String, stage: Int32, code: Int32) -> ProcessError {
        let reason = String(cString: strerror(code))
        let who = spawn.account.map { "\($0.name) (uid \($0.uid))" } ?? "uid \(getuid())"
        switch stage {
        case Int32(CLINUX_STAGE_CGROUP):
            return ProcessError(.cannotStart, "cannot put \(name) in its cgroup: \(reason)", underlyingErrno: code)
        case Int32(CLINUX_STAGE_NAMESPACE), Int32(CLINUX_STAGE_HIDE_DEVICE):
            return ProcessError(
                .cannotStart,
                "cannot hide other jobs' GPUs from \(name): \(reason)",
                underlyingErrno: code
            )
        case Int32(CLINUX_STAGE_GROUPS), Int32(CLINUX_STAGE_GID), Int32(CLINUX_STAGE_UID):
            return ProcessError(.cannotStart, "cannot become \(who): \(reason)", underlyingErrno: code)
        case Int32(CLINUX_STAGE_CWD):
            let directory = spawn.workingDirectory ?? "."
            return ProcessError(
                .permissionDenied,
                "cannot enter working directory \(directory) as \(who): \(reason)",
                underlyingErrno: code
            )
        case Int32(CLINUX_STAGE_EXEC) where code == ENOENT || code == ENOTDIR:
            return ProcessError(.commandNotFound, "command not found: \(name)", underlyingErrno: code)
        case Int32(CLINUX_STAGE_EXEC) where code == EACCES:
            return ProcessError(.permissionDenied, "permission denied: \(name) (as \(who))", underlyingErrno: code)
        default:
            return ProcessError(.cannotStart, "cannot start \(name): \(reason)", underlyingErrno: code)
        }
    }

    private static func withCStrings<R>(
        _ strings: [String],
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R
    ) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer {
            body(UnsafeMutablePointer(mutating: $0.baseAddress!))
        }
    }

    private static func constStrings(
        _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    ) -> UnsafePointer<UnsafePointer<CChar>?> {
        UnsafeRawPointer(pointer).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
    }

    private static func optionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let string else { return body(nil) }
        return string.withCString { body($0) }
    }
}

extension Optional where Wrapped == [UInt32] {
    fileprivate func withUnsafeGroups<R>(_ body: (UnsafeBufferPointer<gid_t>) -> R) -> R {
        (self ?? []).withUnsafeBufferPointer { body($0) }
    }
}
