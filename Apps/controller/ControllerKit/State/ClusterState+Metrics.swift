import ClusterCore
import ClusterWire

/// `GET /metrics`: the cluster in the Prometheus text format (version 0.0.4), from the controller's memory.
/// Job counts are kept as jobs change and queue figures come from the queued index and live allocations, so a
/// scrape reads no finished job; per-GPU series come from the nodes' last heartbeats.
extension ClusterState {
    func metrics() -> String {
        var out = PrometheusText()
        out.family("corral_controller_leader", "gauge", "1 on the controller that leads, 0 on a standby.")
        out.sample("corral_controller_leader", [:], 1)
        out.family("corral_jobs", "gauge", "Jobs by state (finished ones included).")
        for state in JobState.allCases { out.sample("corral_jobs", ["state": state.rawValue], stateCounts[state] ?? 0) }
        out.family(
            "corral_jobs_in_memory",
            "gauge",
            "Jobs the controller holds in memory: every one not ended and the newest finished_jobs_in_memory ended."
        )
        out.sample("corral_jobs_in_memory", [:], jobs.count)

        out.family("corral_queue_pending_jobs", "gauge", "QUEUED jobs by queue.")
        out.family("corral_queue_running_jobs", "gauge", "Placed jobs (ALLOCATED, STARTING, RUNNING) by queue.")
        out.family("corral_queue_gpus_in_use", "gauge", "GPUs held by placed jobs, by queue.")
        for queue in queueViews() {
            out.sample("corral_queue_pending_jobs", ["queue": queue.name], queue.pending)
            out.sample("corral_queue_running_jobs", ["queue": queue.name], queue.running)
            out.sample("corral_queue_gpus_in_use", ["queue": queue.name], queue.gpusInUse)
        }

        out.family("corral_gang_ranks_placed", "gauge", "Allocations held for ranks of gang jobs.")
        out.family("corral_array_tasks_queued", "gauge", "QUEUED tasks of job arrays.")
        var ranks = 0
        for (id, _) in allocations where jobs[id.job]?.spec.isGang == true { ranks += 1 }
        out.sample("corral_gang_ranks_placed", [:], ranks)
        out.sample("corral_array_tasks_queued", [:], queued.reduce(0) { $0 + (jobs[$1]?.array == nil ? 0 : 1) })

        out.family("corral_nodes", "gauge", "Nodes by status; drained nodes also count as drained.")
        var byStatus: [String: Int] = [:]
        for node in nodes.values {
            byStatus[node.status.rawValue, default: 0] += 1
            if node.drained { byStatus["DRAINED", default: 0] += 1 }
        }
        for status in NodeStatus.allCases.map(\.rawValue) + ["DRAINED"] {
            out.sample("corral_nodes", ["status": status], byStatus[status] ?? 0)
        }

        out.family("corral_node_gpus", "gauge", "GPUs of the node.")
        out.family("corral_node_gpus_allocated", "gauge", "GPUs of the node held by allocations.")
        out.family("corral_node_up", "gauge", "1 when the node is READY.")
        out.family("corral_gpu_utilization_percent", "gauge", "GPU utilization at the node's last heartbeat.")
        out.family("corral_gpu_memory_used_bytes", "gauge", "GPU memory in use at the node's last heartbeat.")
        out.family("corral_gpu_healthy", "gauge", "1 when the GPU reports no errors.")
        for node in nodes.values.sorted(by: { $0.id.rawValue < $1.id.rawValue }) {
            let labels = ["node": node.id.rawValue]
            var allocated: Set<Int> = []
            for allocation in allocations(on: node.id) { allocated.formUnion(allocation.gpuIndices) }
            out.sample("corral_node_gpus", labels, node.gpus.count)
            out.sample("corral_node_gpus_allocated", labels, allocated.count)
            out.sample("corral_node_up", labels, node.status == .ready ? 1 : 0)
            for gpu in node.gpus {
                let gpuLabels = ["node": node.id.rawValue, "gpu": String(gpu.index), "uuid": gpu.uuid]
                out.sample("corral_gpu_healthy", gpuLabels, gpu.healthy ? 1 : 0)
                guard node.status == .ready else { continue }  // stale figures are no figures
                if let value = gpu.utilizationPercent { out.sample("corral_gpu_utilization_percent", gpuLabels, value) }
                if let value = gpu.memoryUsedMiB { out.sample("corral_gpu_memory_used_bytes", gpuLabels, value << 20) }
            }
        }
        renderCounters(into: &out)
        return out.text
    }
}
