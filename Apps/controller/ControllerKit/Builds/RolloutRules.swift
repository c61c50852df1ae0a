import ClusterCore
import ClusterWire

/// The rules of a rolling agent update, as pure functions of the rollout and what the nodes say now; the
/// `AgentRollouts` actor keeps the rollout, stores it and hands out the orders.
///
/// - A node's turn comes in the rollout's order, while fewer than `maxParallel` nodes are updating. One that
///   runs the version already is done at once; one that is not READY is skipped (say so, go on).
/// - An updating node is done when it registers with a build of the version (its agent restarted onto it); it
///   fails when its agent reports that the update failed, when it has not restarted onto the version within
///   `timeout`, or when it is removed.
/// - One failure stops the rollout from starting any other node (as a Kubernetes rolling update stops): the
///   nodes already updating are followed to their end, then the rollout is `failed`. An admin looks, and starts
///   a new rollout (which retries the nodes not on the version) or aborts.
enum RolloutRules {
    struct NodeFacts: Equatable {
        var ready: Bool
        /// The version of the build it runs (the published one matched by SHA-256, else what it says).
        var version: String?
    }

    /// How long a node may take from its order to registering with the new build.
    static let timeout: Duration = .seconds(600)

    static func start(
        id: String,
        version: String,
        maxParallel: Int,
        nodes: [String],
        by user: String,
        now: Timestamp
    ) -> RolloutView {
        RolloutView(
            id: id,
            version: version,
            maxParallel: maxParallel,
            state: "running",
            startedAt: WireTime.format(now),
            startedBy: user,
            nodes: nodes.map { RolloutNode(node: $0, phase: "waiting") }
        )
    }

    /// The rollout after what the nodes say now (`facts`: nodes that are gone are absent; `failures`: update
    /// errors their agents reported since).
    static func advance(
        _ rollout: RolloutView,
        facts: [String: NodeFacts],
        failures: [String: String] = [:],
        now: Timestamp
    ) -> RolloutView {
        guard rollout.state == "running" else { return rollout }
        var rollout = rollout
        let stamp = WireTime.format(now)
        for index in rollout.nodes.indices where rollout.nodes[index].phase == "updating" {
            let name = rollout.nodes[index].node
            if let node = facts[name], node.version == rollout.version {
                rollout.nodes[index].phase = "done"
            } else if let failure = failures[name] {
                rollout.nodes[index].phase = "failed"
                rollout.nodes[index].message = String(failure.prefix(500))
            } else if facts[name] == nil {
                rollout.nodes[index].phase = "failed"
                rollout.nodes[index].message = "the node was removed"
            } else if let started = rollout.nodes[index].startedAt.flatMap(WireTime.parse), now - started > timeout {
                rollout.nodes[index].phase = "failed"
                rollout.nodes[index].message =
                    "its agent did not restart onto \(rollout.version) within \(timeout.components.seconds / 60) minutes"
            } else {
                continue
            }
            rollout.nodes[index].endedAt = stamp
        }
        let failed = rollout.nodes.contains { $0.phase == "failed" }
        var updating = rollout.nodes.count { $0.phase == "updating" }
        for index in rollout.nodes.indices where !failed && updating < rollout.maxParallel {
            guard rollout.nodes[index].phase == "waiting" else { continue }
            let node = facts[rollout.nodes[index].node]
            rollout.nodes[index].from = node?.version
            if node?.version == rollout.version {
                rollout.nodes[index].phase = "done"
                rollout.nodes[index].message = "already ran \(rollout.version)"
                rollout.nodes[index].endedAt = stamp
            } else if node?.ready != true {
                rollout.nodes[index].phase = "skipped"
                rollout.nodes[index].message = node == nil ? "the node was removed" : "the node is not READY"
                rollout.nodes[index].endedAt = stamp
            } else {
                rollout.nodes[index].phase = "updating"
                rollout.nodes[index].startedAt = stamp
                updating += 1
            }
        }
        if updating == 0 && (failed || !rollout.nodes.contains { $0.phase == "waiting" }) {
            rollout.state = failed ? "failed" : "done"
            rollout.finishedAt = stamp
        }
        return rollout
    }

    /// What the node's agent is told in its heartbeat's answer.
    static func order(_ rollout: RolloutView?, node: String) -> AgentUpdateOrder? {
        guard let rollout, rollout.state == "running",
            rollout.nodes.contains(where: { $0.node == node && $0.phase == "updating" })
        else { return nil }
        return AgentUpdateOrder(rollout: rollout.id, version: rollout.version)
    }

    /// An admin's stop: nodes not yet started are left as they are; those updating finish on their own.
    static func abort(_ rollout: RolloutView, now: Timestamp) -> RolloutView {
        guard rollout.state == "running" else { return rollout }
        var rollout = rollout
        rollout.state = "aborted"
        rollout.finishedAt = WireTime.format(now)
        for index in rollout.nodes.indices where rollout.nodes[index].phase == "waiting" {
            rollout.nodes[index].phase = "skipped"
            rollout.nodes[index].message = "the rollout was aborted"
        }
        return rollout
    }
}
