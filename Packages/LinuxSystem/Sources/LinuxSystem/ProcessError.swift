/// Why a process could not be started or a command did not finish (after swift-subprocess's
/// `SubprocessError`): `code` is stable, for callers to switch on; `message` is for people, and names the
/// program; `underlyingErrno` is the errno behind it, when a system call said why.
public struct ProcessError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Storage: String, Sendable, Hashable {
            case commandNotFound = "command_not_found"
            case permissionDenied = "permission_denied"
            case cannotStart = "cannot_start"
            case cannotOpenOutput = "cannot_open_output"
            case timedOut = "timed_out"
            case io
        }

        private let storage: Storage

        private init(_ storage: Storage) { self.storage = storage }

        /// The program, or the working directory it was to run in, does not exist (ENOENT, ENOTDIR).
        public static let commandNotFound = Code(.commandNotFound)
        /// The program is not executable by this user (EACCES).
        public static let permissionDenied = Code(.permissionDenied)
        /// posix_spawn failed for another reason (EAGAIN after the retries, ENOEXEC, ETXTBSY, ...).
        public static let cannotStart = Code(.cannotStart)
        /// The file for the process's stdout and stderr could not be opened.
        public static let cannotOpenOutput = Code(.cannotOpenOutput)
        /// The command ran past its timeout and its process group was killed.
        public static let timedOut = Code(.timedOut)
        /// A system call around the process (pipe, write, waitpid) failed.
        public static let io = Code(.io)

        public var description: String { storage.rawValue }
    }

    public let code: Code
    public let message: String
    public let underlyingErrno: Int32?

    public init(_ code: Code, _ message: String, underlyingErrno: Int32? = nil) {
        self.code = code
        self.message = message
        self.underlyingErrno = underlyingErrno
    }

    public var description: String { message }
}
