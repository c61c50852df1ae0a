import CorralSupport

/// The `corral` command line: which command it names and with which global options. Parsing takes `[String]`
/// and touches nothing (bar asking whether stdin is a terminal, for `submit`), so it is tested without processes.
enum CLICommand {
    /// Every command by the names it answers to; `help` and `version` also as options. A list searched in order,
    /// not a `Dictionary`: building one at the first command costs a scan of the binary's protocol conformances,
    /// which is most of what `corral --help` did beyond squeue (docs/PERFORMANCE.md).
    static let commands: KeyValuePairs<String, any CorralCommand.Type> = [
        "configure": ConfigureCommand.self,
        "config": ConfigCommand.self,
        "submit": SubmitCommand.self,
        "run": RunCommand.self,
        "ls": ListCommand.self,
        "ps": ListCommand.self,
        "show": ShowCommand.self,
        "logs": LogsCommand.self,
        "wait": WaitCommand.self,
        "cancel": CancelCommand.self,
        "hold": HoldCommand.self,
        "release": ReleaseCommand.self,
        "requeue": RequeueCommand.self,
        "update": UpdateCommand.self,
        "exec": ExecCommand.self,
        "explain": ExplainCommand.self,
        "queues": QueuesCommand.self,
        "nodes": NodesCommand.self,
        "drain": DrainCommand.self,
        "resume": ResumeCommand.self,
        "tokens": TokensCommand.self,
        "whoami": WhoamiCommand.self,
        "usage": UsageCommand.self,
        "completion": CompletionCommand.self,
        "slurm": SlurmCommand.self,
        "version": VersionCommand.self,
        "--version": VersionCommand.self,
        "help": HelpCommand.self,
        "--help": HelpCommand.self,
        "-h": HelpCommand.self,
    ]

    /// The command a name answers to.
    static func command(named name: String) -> (any CorralCommand.Type)? {
        commands.first { $0.key == name }?.value
    }

    /// The command and the global options; a mistake is a usage error (exit code 2).
    static func parse(_ arguments: [String]) throws(CLIError) -> (any CorralCommand, GlobalOptions) {
        var reader = ArgumentReader(
            arguments,
            globalSwitches: GlobalOptions.switches,
            globalOptions: GlobalOptions.options
        )
        do {
            let command = try parse(&reader)
            return (command, GlobalOptions(reader.globals))
        } catch {
            throw CLIError.usage(error.message)
        }
    }

    static func parse(_ reader: inout ArgumentReader) throws(UsageError) -> any CorralCommand {
        guard let name = try reader.nextWord() else { return HelpCommand(topic: nil) }
        let type = command(named: name)
        if !(type?.takesFreeFormArguments ?? false) {
            // Every word of these commands is theirs: global options may come anywhere, and so may --help
            // (even for a command that does not exist, whose "help" is the usage).
            try reader.collectGlobals()
            if reader.containsOption(["--help", "-h"]) { return HelpCommand(topic: name) }
        }
        guard let type else { throw UsageError("unknown command '\(name)'") }
        do {
            return try type.parse(&reader)
        } catch {
            guard error.code == .helpRequested else { throw error }
            return HelpCommand(topic: type.helpTopic ?? name)
        }
    }
}
