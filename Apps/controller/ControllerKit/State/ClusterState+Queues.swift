import ClusterCore
import ClusterWire

/// Queues and explanations, as the user API shows them.
extension ClusterState {
    /// Each configured queue with its depth and usage, by priority then name.
    func queueViews() -> [QueueView] {
        var pending: [String: Int] = [:]
        for id in queued { if let job = jobs[id] { pending[job.spec.queue, default: 0] += 1 } }
        var running: [String: Int] = [:]
        var gpus: [String: Int] = [:]
        var counted = Set<JobID>()
        for allocation in allocations.values {
            guard let job = jobs[allocation.id.job], job.state.isPlaced else { continue }
            // A gang is one running job however many ranks it has; its GPUs are all its ranks'.
            if counted.insert(job.id).inserted { running[job.spec.queue, default: 0] += 1 }
            gpus[job.spec.queue, default: 0] += allocation.resources.gpus
        }
        return settings.policy.queues.values
            .sorted { ($0.priority, $1.name) > ($1.priority, $0.name) }
            .map { queue in
                QueueView(
                    name: queue.name,
                    priority: queue.priority,
                    nodeSelector: queue.nodeSelector,
                    maxRunningGpusPerUser: queue.maxRunningGPUsPerUser,
                    defaultTimeLimit: queue.defaultTimeLimit,
                    pending: pending[queue.name] ?? 0,
                    running: running[queue.name] ?? 0,
                    gpusInUse: gpus[queue.name] ?? 0
                )
            }
    }

    /// Why a job waits: its reason and one line per node from the scheduler's own feasibility rules.
    func explain(_ job: Job) -> ExplainResponse {
        let snapshot = snapshot(now: clock.now())
        let lines = Scheduler.explain(job: job, snapshot: snapshot, policy: settings.policy)
        var response = ExplainResponse(
            job: job.id.rawValue,
            state: job.state.rawValue,
            reason: job.state == .queued ? job.pendingReason?.rawValue : nil,
            message: job.message,
            nodes: lines.map {
                ExplainResponse.NodeLine(node: $0.node.rawValue, verdict: $0.verdict.rawValue, detail: $0.detail)
            }
        )
        response.summary = Scheduler.gangSummary(job: job, lines: lines, snapshot: snapshot, policy: settings.policy)
        return response
    }
}
