import ClusterCore
import ClusterWire

extension ClusterState {
    func nodeViews() -> [NodeView] {
        nodes.values.sorted { $0.id < $1.id }.map { node in
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
                        healthy: $0.healthy
                    )
                },
                gpusUsed: gpusUsed.count,
                cpus: node.cpus,
                cpusUsed: used.cpus,
                memory: node.memory,
                memoryUsed: used.memory,
                labels: node.labels,
                lastHeartbeat: WireTime.format(node.lastHeartbeat)
            )
        }
    }
}
