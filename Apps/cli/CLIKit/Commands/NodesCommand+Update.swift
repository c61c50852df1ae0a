import ClusterWire
import CorralClient
import CorralSupport

/// `corral nodes update`: a rolling update of the agents to a published build (issue 20). It starts the
/// rollout and follows it, a line per change, until every node is done (exit 0) or one failed (exit 1);
/// `--no-wait` returns once it started, `--status` shows it, `--abort` starts no other node.
extension NodesCommand {
    struct UpdateOptions: Sendable, Equatable {
        var version: String?
        var maxParallel: Int?
        var nodes: [String] = []
        var wait = true
        var status = false
        var abort = false

        static func parse(_ words: [String]) throws(UsageError) -> UpdateOptions {
            var options = UpdateOptions()
            var index = 0
            func value(_ flag: String) throws(UsageError) -> String {
                index += 1
                guard index < words.count, !words[index].hasPrefix("-") else {
                    throw UsageError("\(flag) needs a value")
                }
                return words[index]
            }
            while index < words.count {
                switch words[index] {
                case "--version": options.version = try value("--version")
                case "--max-parallel":
                    let text = try value("--max-parallel")
                    guard let number = Int(text), (1...1000).contains(number) else {
                        throw UsageError("--max-parallel takes 1-1000, not '\(text.prefix(20))'")
                    }
                    options.maxParallel = number
                case "--node": options.nodes.append(try value("--node"))
                case "--no-wait": options.wait = false
                case "--status": options.status = true
                case "--abort": options.abort = true
                default: throw UsageError(NodesCommand.usage)
                }
                index += 1
            }
            let starts = options.version != nil || options.maxParallel != nil || !options.nodes.isEmpty || !options.wait
            guard !(options.status && options.abort), !((options.status || options.abort) && starts) else {
                throw UsageError("--status and --abort take no other flag")
            }
            return options
        }
    }

    func update(_ options: UpdateOptions, client: CorralClient, context: CommandContext) async throws -> Int32 {
        if options.abort {
            let view = try await client.abortRollout()
            context.print(view, text: "aborted rollout \(view.id): no other node starts; nodes updating now finish\n")
            return 0
        }
        if options.status {
            let view = try await client.rollout()
            context.print(view, text: Self.rolloutText(view))
            return view.state == "failed" ? 1 : 0
        }
        var view = try await client.startRollout(
            RolloutRequest(
                version: options.version,
                maxParallel: options.maxParallel,
                nodes: options.nodes.isEmpty ? nil : options.nodes
            )
        )
        guard options.wait, !context.json else {
            context.print(
                view,
                text: "rollout \(view.id): \(view.nodes.count) node(s) to corral-agent \(view.version), "
                    + "\(view.maxParallel) at once (corral nodes update --status)\n"
            )
            return 0
        }
        FileHandleOutput.stdout(
            "rollout \(view.id): \(view.nodes.count) node(s) to corral-agent \(view.version), \(view.maxParallel) at once\n"
        )
        var shown: [String: String] = [:]
        while true {
            for node in view.nodes where shown[node.node] != node.phase && node.phase != "waiting" {
                shown[node.node] = node.phase
                FileHandleOutput.stdout(Self.line(node, version: view.version) + "\n")
            }
            guard view.state == "running" else { break }
            try await Task.sleep(for: .seconds(1))
            view = try await client.rollout()
        }
        FileHandleOutput.stdout("rollout \(view.id): \(view.state)\n")
        return view.state == "done" ? 0 : 1
    }

    static func line(_ node: RolloutNode, version: String) -> String {
        let from = node.from.map { " (from \($0))" } ?? ""
        switch node.phase {
        case "updating": return "\(node.node): updating to \(version)\(from)"
        case "done": return "\(node.node): runs \(version)\(node.message.map { " (\($0))" } ?? "")"
        default: return "\(node.node): \(node.phase)\(node.message.map { ": \($0)" } ?? "")"
        }
    }

    static func rolloutText(_ view: RolloutView) -> String {
        var text = "rollout \(view.id) to corral-agent \(view.version): \(view.state) (started \(view.startedAt) by "
        text += "\(view.startedBy), \(view.maxParallel) at once)\n"
        let rows = view.nodes.map { [$0.node, $0.phase.uppercased(), $0.from ?? "-", $0.message ?? ""] }
        return text + Tables.render(["NODE", "PHASE", "FROM", "NOTE"], rows)
    }
}
