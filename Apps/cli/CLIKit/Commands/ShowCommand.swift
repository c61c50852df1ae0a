import ClusterWire
import CorralClient
import CorralSupport

/// `corral show JOB`: one job's spec, attempts and events.
struct ShowCommand: CorralCommand {
    var target: String

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> ShowCommand {
        ShowCommand(target: try arguments.onlyWord(usage: "usage: corral show JOB"))
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let job = try await Targets.one(target, client: client)
        let events = try await client.events(job.id)
        context.print(job, text: Tables.show(job, events.events))
        return 0
    }
}
