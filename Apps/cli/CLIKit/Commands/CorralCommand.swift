import CorralSupport

/// One `corral` command: it reads its own arguments and runs itself. `CLICommand.commands` maps the names
/// people type to these types.
protocol CorralCommand: Sendable, Equatable {
    /// Reads the command's arguments (those after its name). Global options are gone from them already, except
    /// for commands that take free-form arguments, which meet them where they stand.
    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> Self

    /// Runs the command; returns the exit code.
    func run(_ context: CommandContext) async throws -> Int32

    /// Runs the command before Swift's concurrency runtime starts (a `LocalCommand`: `help`, `version`,
    /// `completion`); nil: it needs `run`.
    func runHere() -> Int32?

    /// True when the command's arguments end in a command line of the user's (`submit`, `run`): global options
    /// and `--help` then count only before it, and the command reads them itself.
    static var takesFreeFormArguments: Bool { get }

    /// The help `--help` shows for the command (nil: the command's name).
    static var helpTopic: String? { get }
}

/// A command that needs neither the controller nor the caller's settings: it runs before Swift's concurrency
/// runtime starts (`CLI.start`), and `run` is the same.
protocol LocalCommand: CorralCommand {
    func runLocally() -> Int32
}

extension LocalCommand {
    func runHere() -> Int32? { runLocally() }
    func run(_ context: CommandContext) async throws -> Int32 { runLocally() }
}

extension CorralCommand {
    func runHere() -> Int32? { nil }
    static var takesFreeFormArguments: Bool { false }
    static var helpTopic: String? { nil }
}

extension ArgumentReader {
    /// The one word a command takes (a job or a node), as written; anything else is refused with `usage`.
    mutating func onlyWord(usage: String) throws(UsageError) -> String {
        let words = rest()
        guard words.count == 1, !words[0].hasPrefix("-") else { throw UsageError(usage) }
        return words[0]
    }

    /// Nothing more: for commands that take no arguments.
    mutating func nothing(usage: String) throws(UsageError) {
        guard rest().isEmpty else { throw UsageError(usage) }
    }
}
