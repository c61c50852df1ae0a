/// How `Processes.spawn` starts a process. Whatever the options, the child starts with an empty signal mask,
/// default dispositions for the signals its parent may ignore or handle, and only the environment it is given.
public struct SpawnOptions: Sendable, Hashable {
    /// Where the child stands among process groups and sessions. Never both: glibc's POSIX_SPAWN_SETSID calls
    /// setsid() first, after which joining another group fails (swift-subprocess's `requiresFallbackSpawnPath`).
    public enum Grouping: Sendable, Hashable {
        /// A session of its own (POSIX_SPAWN_SETSID): pgid = sid = pid, and no controlling terminal, so the
        /// child outlives its parent's session and `-pid` reaches all of its descendants.
        case newSession
        /// A process group of its own in the parent's session (POSIX_SPAWN_SETPGROUP): pgid = pid, so a
        /// timeout can kill the whole group, while the child still ends with the parent's terminal session.
        case newProcessGroup
    }

    /// The child's standard input.
    public enum Input: Sendable, Hashable {
        /// /dev/null: a reader gets end of file at once instead of hanging.
        case null
        /// A descriptor of the parent (a pipe), duplicated onto the child's standard input.
        case descriptor(Int32)
    }

    /// The child's standard output and error.
    public enum Output: Sendable, Hashable {
        /// Both appended to this file (created mode 0640), which several writers may share without clobbering
        /// each other's bytes (O_APPEND).
        case appending(toFile: String)
        /// Descriptors of the parent (pipes), duplicated onto the child's stdout and stderr.
        case descriptors(stdout: Int32, stderr: Int32)
    }

    public var grouping: Grouping
    public var input: Input
    public var output: Output
    /// Looks the program up on the parent's PATH when it has no slash (posix_spawnp); else the executable is
    /// taken as the path it is (posix_spawn), for callers that resolved it themselves.
    public var searchesPath: Bool
    /// The directory the child starts in (posix_spawn_file_actions_addchdir_np); nil keeps the parent's.
    public var workingDirectory: String?
    /// Closes every descriptor from 3 up in the child (posix_spawn_file_actions_addclosefrom_np), so nothing the
    /// parent opened without O_CLOEXEC (sockets, files of other threads) leaks into it.
    public var closesOtherDescriptors: Bool

    public init(
        grouping: Grouping,
        input: Input = .null,
        output: Output,
        searchesPath: Bool = false,
        workingDirectory: String? = nil,
        closesOtherDescriptors: Bool = true
    ) {
        self.grouping = grouping
        self.input = input
        self.output = output
        self.searchesPath = searchesPath
        self.workingDirectory = workingDirectory
        self.closesOtherDescriptors = closesOtherDescriptors
    }
}
