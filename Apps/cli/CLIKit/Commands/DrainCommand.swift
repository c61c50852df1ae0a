import ClusterWire
import CorralClient
import CorralSupport

/// `corral drain NODE [--reason TEXT]` (admin): no new jobs on the node; running ones finish.
struct DrainCommand: CorralCommand {
    var node: String
    var reason: String?

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> DrainCommand {
        let usage = UsageError("usage: corral drain NODE [--reason TEXT]")
        var reason: String?
        var words: [String] = []
        while let argument = try arguments.next() {
            switch argument {
            case .option("--reason"): reason = try arguments.value(for: "--reason")
            case .option: throw usage
            case .positional(let word): words.append(word)
            }
        }
        guard words.count == 1, !words[0].hasPrefix("-") else { throw usage }
        return DrainCommand(node: words[0], reason: reason)
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let view = try await context.client().drain(node, reason: reason)
        context.print(view, text: "drained \(view.id): running jobs finish, no new ones start\n")
        return 0
    }
}
