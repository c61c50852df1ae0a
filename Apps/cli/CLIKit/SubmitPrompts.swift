import ClusterCore
import ClusterWire
import CorralSupport

/// `corral submit` with no command on a terminal: one question per setting no flag gave, Enter for the
/// default shown in brackets. The command runs through `sh -c`, so it is typed as in a shell.
enum SubmitPrompts {
    static func ask(_ flags: SubmitJobRequest) throws(CLIError) -> SubmitJobRequest {
        var request = flags
        FileHandleOutput.stderr("a new job (Enter takes the value in brackets)\n")
        guard let command = Terminal.ask("command", current: nil), !command.isEmpty else {
            throw CLIError.usage(JobFlags.noCommand)
        }
        request.command = ["/bin/sh", "-c", command]
        if request.name == nil { request.name = Terminal.ask("name", current: nil) }
        if request.image == nil {
            request.image = Terminal.ask("container image (none: run on the node itself)", current: nil)
        }
        if request.queue == nil { request.queue = Terminal.ask("queue (none: the default queue)", current: nil) }
        if request.gpus == nil { request.gpus = try number("GPUs", default: 0) }
        if request.cpus == nil { request.cpus = try number("CPUs", default: 1) }
        if request.memory == nil, let text = Terminal.ask("memory (such as 32G; none: no limit)", current: nil) {
            guard let bytes = ByteSize.parse(text) else {
                throw CLIError.usage("memory takes a size such as 512M or 32G, got '\(text)'")
            }
            request.memory = ByteCount(bytes)
        }
        return request
    }

    private static func number(_ question: String, default value: Int) throws(CLIError) -> Int {
        let text = Terminal.ask(question, current: String(value)) ?? String(value)
        guard let number = Int(text), number >= 0 else {
            throw CLIError.usage("\(question) takes a whole number, got '\(text)'")
        }
        return number
    }
}
