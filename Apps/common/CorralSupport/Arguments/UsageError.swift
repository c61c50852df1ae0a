/// A command line that cannot be read: the one error every binary's argument parsing throws. Each binary
/// presents it its own way (`corral` exits 2 and points at `--help`, the controller prints its usage), so the
/// message says only what is wrong with the command line.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of mistake it is, for callers that present some kinds differently (help is not a failure).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: String, Hashable, Sendable {
            case unknownOption, missingValue, unexpectedValue, malformedValue, unexpectedArgument, invalidUsage
            case helpRequested
        }

        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// An option the command does not know.
        public static let unknownOption = Code(.unknownOption)
        /// An option that takes a value came last.
        public static let missingValue = Code(.missingValue)
        /// A switch written with a value (`--all=yes`).
        public static let unexpectedValue = Code(.unexpectedValue)
        /// A value that is not what the option takes (a number, a duration, `KEY=VALUE`...).
        public static let malformedValue = Code(.malformedValue)
        /// A word where the command takes none.
        public static let unexpectedArgument = Code(.unexpectedArgument)
        /// Anything else a command refuses; the message is usually its usage line.
        public static let invalidUsage = Code(.invalidUsage)
        /// `--help` where a command reads it as an option: not a mistake, but it stops parsing all the same.
        public static let helpRequested = Code(.helpRequested)

        public var description: String { storage.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ message: String, code: Code = .invalidUsage) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// "unknown option '--bogus'", or "... for ls" when `command` names the command that refuses it.
    public static func unknownOption(_ option: String, for command: String? = nil) -> UsageError {
        UsageError("unknown option '\(option)'" + (command.map { " for \($0)" } ?? ""), code: .unknownOption)
    }

    public static func missingValue(_ option: String) -> UsageError {
        UsageError("\(option) needs a value", code: .missingValue)
    }

    public static func unexpectedValue(_ option: String) -> UsageError {
        UsageError("\(option) takes no value", code: .unexpectedValue)
    }

    /// "--gpus takes a whole number, got 'two'": the value is quoted as given, so the user sees what was read.
    public static func malformedValue(_ option: String, expected: String, got text: String) -> UsageError {
        UsageError("\(option) takes \(expected), got '\(text)'", code: .malformedValue)
    }

    public static func unexpectedArgument(_ word: String) -> UsageError {
        UsageError("unexpected argument '\(word)'", code: .unexpectedArgument)
    }

    public static let helpRequested = UsageError("help requested", code: .helpRequested)
}
