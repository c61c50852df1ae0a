import CorralSupport

/// `corral help [COMMAND]`, `--help`, `-h`, no command at all, and `--help` given to a command: the usage, or
/// submit's own (its options are many).
struct HelpCommand: LocalCommand {
    var topic: String?

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> HelpCommand {
        HelpCommand(topic: arguments.rest().first)
    }

    func runLocally() -> Int32 {
        FileHandleOutput.stdout((topic == "submit" ? SubmitCommand.usage : CLI.usage) + "\n")
        return 0
    }
}
