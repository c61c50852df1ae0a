import ClusterCore
import ClusterWire
import CorralSupport

/// GPU utilization history and the idle-GPU rule (issue 17): each heartbeat's per-GPU figures go into its
/// node's `UtilizationHistory` (memory only, the last hour), and the running jobs on that node are looked at
/// again. A job found idle is flagged (`Job.idle`: `corral ls`, `corral show`, the dashboard, /metrics) with a
/// record in its event log; its queue's `idle_cancel_after` cancels it once it has stayed idle that long.
extension ClusterState {
    /// `GET /v1/nodes/{id}/utilization`.
    func utilizationView(_ id: NodeID) throws(ClusterError) -> NodeUtilizationResponse {
        guard nodes[id] != nil else { throw .nodeNotFound(id.rawValue) }
        return NodeUtilizationResponse(node: id.rawValue, history: utilization[id])
    }

    func recordUtilization(of node: Node, at now: Timestamp) {
        var percents: [Int: Int] = [:]
        for gpu in node.gpus { if let value = gpu.utilizationPercent { percents[gpu.index] = value } }
        guard !percents.isEmpty else { return }
        // An hour for the dashboard, or the idle window when it is longer (the rule needs it covered).
        let span = max(Duration.seconds(3600), settings.idleGPUs.window + .seconds(60))
        var history = utilization[node.id] ?? UtilizationHistory(bucket: settings.utilizationBucket, span: span)
        history.record(at: now, percents)
        utilization[node.id] = history
    }

    /// The running jobs on `node`, looked at again; the changes (a record, a cancel) go into `changes`.
    func checkIdle(on node: NodeID, now: Timestamp, in changes: inout ChangeSet) {
        var seen = Set<JobID>()
        for allocation in allocations(on: node) where seen.insert(allocation.id.job).inserted {
            guard let job = jobs[allocation.id.job] else { continue }
            let mean = IdleGPUs.idleMean(job, histories: utilization, policy: settings.idleGPUs, now: now)
            guard let mean else {
                if job.idle != nil { jobs[job.id]?.idle = nil }
                continue
            }
            let queue = settings.policy.queue(named: job.spec.queue)
            let cancelAfter = queue.idleCancelAfter.map { Duration.seconds($0) }
            guard let mark = job.idle else {
                jobs[job.id]?.idle = IdleMark(since: now, meanPercent: mean)
                let window = settings.idleGPUs.window
                stage(
                    .idleGPUs(meanPercent: mean, window: window, cancelAt: cancelAfter.map { now + $0 }),
                    job: job.id,
                    in: &changes
                )
                continue
            }
            jobs[job.id]?.idle?.meanPercent = mean
            if let cancelAfter, mark.since + cancelAfter <= now, job.stopRequest == nil {
                stage(.cancel(by: "corral: its GPUs stayed idle"), job: job.id, in: &changes)
            }
        }
    }
}
