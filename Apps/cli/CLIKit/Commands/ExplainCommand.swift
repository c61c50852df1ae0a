import ClusterWire
import CorralClient
import CorralSupport

/// `corral explain JOB`: why a job waits, with one line per node.
struct ExplainCommand: CorralCommand {
    var target: String

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> ExplainCommand {
        ExplainCommand(target: try arguments.onlyWord(usage: "usage: corral explain JOB"))
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let explanation = try await client.explain(try await Targets.one(target, client: client).id)
        context.print(explanation, text: Tables.explain(explanation))
        return 0
    }
}
