import ClusterWire
import CorralClient
import CorralSupport

/// `corral resume NODE` (admin): a drained or revoked node takes work again.
struct ResumeCommand: CorralCommand {
    var node: String

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> ResumeCommand {
        ResumeCommand(node: try arguments.onlyWord(usage: "usage: corral resume NODE"))
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let view = try await context.client().resume(node)
        context.print(view, text: "resumed \(view.id)\n")
        return 0
    }
}
