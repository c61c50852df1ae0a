import ClusterWire
import CorralClient
import CorralSupport

/// `corral nodes`, `corral nodes show NODE` and (admin) `corral nodes approve NODE [--rejoin]` and
/// `corral nodes revoke NODE`.
struct NodesCommand: CorralCommand {
    enum Action: Sendable, Equatable {
        /// Every node: GPUs used and total, GPU utilization, CPUs, memory.
        case list
        case show(node: String)
        /// Cuts the node's agent off until `corral resume NODE`.
        case revoke(node: String)
        /// Admits a node waiting for approval; `rejoin`: lets a registered node join again with the join token.
        case approve(node: String, rejoin: Bool)
        /// A rolling update of the agents (`NodesCommand+Update.swift`).
        case update(UpdateOptions)
    }

    var action = Action.list

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> NodesCommand {
        let words = arguments.rest()
        switch words.first {
        case "revoke" where words.count == 2: return NodesCommand(action: .revoke(node: words[1]))
        case "show" where words.count == 2: return NodesCommand(action: .show(node: words[1]))
        case "approve" where words.count == 2 && !words[1].hasPrefix("-"):
            return NodesCommand(action: .approve(node: words[1], rejoin: false))
        case "approve" where words.count == 3 && words.contains("--rejoin"):
            guard let node = words.dropFirst().first(where: { $0 != "--rejoin" }), !node.hasPrefix("-") else {
                throw UsageError(usage)
            }
            return NodesCommand(action: .approve(node: node, rejoin: true))
        case "update": return NodesCommand(action: .update(try UpdateOptions.parse(Array(words.dropFirst()))))
        case nil: return NodesCommand()
        default: throw UsageError(usage)
        }
    }

    static let usage = """
        usage: corral nodes | corral nodes show NODE | corral nodes approve NODE [--rejoin] | corral nodes revoke NODE
               corral nodes update [--version V] [--max-parallel N] [--node NODE ...] [--no-wait]
               corral nodes update --status | --abort
        """

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        switch action {
        case .list:
            let nodes = try await client.nodes().nodes
            context.print(nodes, text: Tables.nodes(nodes))
        case .show(let node):
            let view = try await client.node(node)
            context.print(view, text: Tables.node(view))
        case .revoke(let node):
            let view = try await client.revokeNode(node)
            context.print(
                view,
                text: "revoked \(view.id): its agent is cut off; corral resume \(view.id) readmits it\n"
            )
        case .approve(let node, let rejoin):
            let view = try await client.approveNode(node, rejoin: rejoin)
            let text =
                rejoin
                ? "\(view.id) may join again with the cluster join token (its old node token is revoked)\n"
                : "approved \(view.id): it takes work now\n"
            context.print(view, text: text)
        case .update(let options):
            return try await update(options, client: client, context: context)
        }
        return 0
    }
}
