import ClusterWire
import CorralClient
import CorralSupport

/// `corral queues`: the cluster's queues, their depth and GPU use.
struct QueuesCommand: CorralCommand {
    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> QueuesCommand {
        try arguments.nothing(usage: "usage: corral queues")
        return QueuesCommand()
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let queues = try await context.client().queues().queues
        context.print(queues, text: Tables.queues(queues))
        return 0
    }
}
