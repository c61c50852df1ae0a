import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport

/// Nodes as the user API shows them, and the operator's drain, resume and revoke.
extension ClusterState {
    func nodeViews() -> [NodeView] {
        nodes.values.sorted { $0.id < $1.id }.map(nodeView)
    }

    func nodeView(_ id: NodeID) throws(ClusterError) -> NodeView {
        guard let node = nodes[id] else { throw .nodeNotFound(id.rawValue) }
        return nodeView(node)
    }

    /// Drained: running jobs finish, nothing new is placed. Idempotent.
    func drain(_ id: NodeID, reason: String?, by user: String) throws -> NodeView {
        guard var node = nodes[id] else { throw ClusterError.nodeNotFound(id.rawValue) }
        node.drained = true
        node.drainReason = reason ?? "drained by \(user)"
        try save(node)
        log.info("node \(id) drained by \(user): \(node.drainReason ?? "")")
        return nodeView(node)
    }

    func resume(_ id: NodeID, by user: String) throws -> NodeView {
        guard var node = nodes[id] else { throw ClusterError.nodeNotFound(id.rawValue) }
        node.drained = false
        node.drainReason = nil
        node.revoked = false
        try save(node)
        log.info("node \(id) resumed by \(user)")
        requestSchedulingPass()
        return nodeView(node)
    }

    /// Approves a node that waits for approval. `rejoin` is for an approved node whose agent lost its token:
    /// the caller then revokes the token so that the join token registers the node again; without it an
    /// approved node is a conflict (approving it again would change nothing, and the caller may have meant
    /// another node).
    func approve(_ id: NodeID, rejoin: Bool, by user: String) throws -> NodeView {
        guard var node = nodes[id] else { throw ClusterError.nodeNotFound(id.rawValue) }
        if node.approved && !rejoin { throw ClusterError.nodeAlreadyApproved(id) }
        if !node.approved {
            node.approved = true
            try save(node)
            log.info("node \(id) approved by \(user)")
            requestSchedulingPass()
        }
        if rejoin { log.warning("node \(id) may join again with the join token (approved by \(user))") }
        return nodeView(node)
    }

    /// Cuts a node off (its token is revoked by the credential store): it may not register again until
    /// resumed, and its jobs are handled as on a lost node.
    func revokeNode(_ id: NodeID, by user: String) throws -> NodeView {
        guard var node = nodes[id] else { throw ClusterError.nodeNotFound(id.rawValue) }
        node.revoked = true
        let wasLost = node.status == .lost
        node.status = .lost
        var changes = ChangeSet()
        changes.nodes[id] = node
        if !wasLost {
            for allocation in allocations(on: id).sorted(by: { $0.id < $1.id }) {
                stage(.nodeLost(id, reason: "node \(id) was revoked by \(user)"), job: allocation.id.job, in: &changes)
            }
        }
        try commit(changes)
        log.warning("node \(id) revoked by \(user)")
        requestSchedulingPass()
        return nodeView(nodes[id] ?? node)
    }

    private func save(_ node: Node) throws {
        var changes = ChangeSet()
        changes.nodes[node.id] = node
        try commit(changes)
    }

    func nodeView(_ node: Node) -> NodeView {
        var used = Resources.zero
        var gpusUsed: Set<Int> = []
        for allocation in allocations(on: node.id) {
            used = used + allocation.resources
            gpusUsed.formUnion(allocation.gpuIndices)
        }
        var view = NodeView(
            id: node.id.rawValue,
            hostname: node.hostname,
            status: node.status.rawValue,
            drained: node.drained,
            gpus: node.gpus.map {
                GPUReport(
                    index: $0.index,
                    uuid: $0.uuid,
                    name: $0.name,
                    memoryMib: $0.memoryMiB,
                    memoryUsedMib: $0.memoryUsedMiB,
                    utilization: $0.utilizationPercent,
                    healthy: $0.healthy
                )
            },
            gpusUsed: gpusUsed.count,
            cpus: node.cpus,
            cpusUsed: used.cpus,
            memory: node.memory,
            memoryUsed: used.memory,
            labels: node.labels,
            lastHeartbeat: WireTime.format(node.lastHeartbeat),
            drainReason: node.drainReason,
            revoked: node.revoked ? true : nil,
            message: node.status == .unhealthy ? node.healthMessage : nil,
            diskFree: node.diskFreeBytes,
            gpuTopology: node.gpuTopology,
            containment: node.containment,
            address: node.address
        )
        view.approved = node.approved ? nil : false
        view.agentVersion = node.agentVersion
        view.agentBuild = node.agentBuild
        view.stageCache = stageCaches[node.id]
        return view
    }
}
