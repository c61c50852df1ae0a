import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport

/// Nodes as the user API shows them, and the operator's drain and resume.
extension ClusterState {
    func nodeViews() -> [NodeView] {
        nodes.values.sorted { $0.id < $1.id }.map(nodeView)
    }

    func nodeView(_ id: NodeID) throws -> NodeView {
        guard let node = nodes[id] else { throw APIError.nodeNotFound(id.rawValue) }
        return nodeView(node)
    }

    /// Drained: running jobs finish, nothing new is placed. Idempotent.
    func drain(_ id: NodeID, reason: String?, by user: String) throws -> NodeView {
        guard var node = nodes[id] else { throw APIError.nodeNotFound(id.rawValue) }
        node.drained = true
        node.drainReason = reason ?? "drained by \(user)"
        try database.saveNode(node)
        nodes[id] = node
        log.info("node \(id) drained by \(user): \(node.drainReason ?? "")")
        return nodeView(node)
    }

    func resume(_ id: NodeID, by user: String) throws -> NodeView {
        guard var node = nodes[id] else { throw APIError.nodeNotFound(id.rawValue) }
        node.drained = false
        node.drainReason = nil
        node.revoked = false
        try database.saveNode(node)
        nodes[id] = node
        log.info("node \(id) resumed by \(user)")
        requestSchedulingPass()
        return nodeView(node)
    }

    func nodeView(_ node: Node) -> NodeView {
        var used = Resources.zero
        var gpusUsed: Set<Int> = []
        for id in liveByNode[node.id] ?? [] {
            guard let allocation = live[id] else { continue }
            used = used + allocation.resources
            gpusUsed.formUnion(allocation.gpuIndices)
        }
        return NodeView(
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
            gpuTopology: node.gpuTopology
        )
    }
}
