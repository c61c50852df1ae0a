import CorralSupport

/// `corral completion bash|zsh|fish`: a completion script (`Completion`).
struct CompletionCommand: LocalCommand {
    var shell: String

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> CompletionCommand {
        let words = arguments.rest()
        guard words.count == 1, ["bash", "zsh", "fish"].contains(words[0]) else {
            throw UsageError("usage: corral completion bash|zsh|fish")
        }
        return CompletionCommand(shell: words[0])
    }

    func runLocally() -> Int32 {
        FileHandleOutput.stdout(Completion.script(for: shell))
        return 0
    }
}
