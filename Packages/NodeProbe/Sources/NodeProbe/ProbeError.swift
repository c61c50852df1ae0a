import LinuxSystem

/// Why a probe step failed. `code` is stable (tests and the agent switch on it); `message` is for people.
public struct ProbeError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The executable does not exist (or is not on `PATH`).
        public static let commandNotFound = Code(rawValue: "command_not_found")
        /// The command ran past its timeout and was killed.
        public static let timedOut = Code(rawValue: "timed_out")
        /// The command could not be started, or exited with a failure status.
        public static let commandFailed = Code(rawValue: "command_failed")
        /// Output that does not have the expected shape.
        public static let parse = Code(rawValue: "parse")
        /// A system call (pipe, read, waitpid) failed.
        public static let io = Code(rawValue: "io")

        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension ProbeError {
    /// A probe's command that did not run to the end, in the probe's codes (the ones the agent and the tests
    /// switch on): anything that kept the program from starting but its absence is a failed command.
    init(_ failure: ProcessError) {
        switch failure.code {
        case .commandNotFound: self.init(.commandNotFound, failure.message)
        case .timedOut: self.init(.timedOut, failure.message)
        case .io: self.init(.io, failure.message)
        default: self.init(.commandFailed, failure.message)
        }
    }
}
