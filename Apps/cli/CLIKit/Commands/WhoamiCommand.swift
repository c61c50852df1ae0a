import ClusterWire
import CorralClient
import CorralSupport

/// `corral whoami`: the user and role the token stands for.
struct WhoamiCommand: CorralCommand {
    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> WhoamiCommand {
        try arguments.nothing(usage: "usage: corral whoami")
        return WhoamiCommand()
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let me = try await context.client().whoami()
        context.print(me, text: "\(me.user) (\(me.role)), token \(me.tokenPrefix)...\n")
        return 0
    }
}
