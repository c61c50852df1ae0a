import ClusterCore
import ClusterWire

/// Queues and explanations, as the user API shows them.
extension ClusterState {
    /// Each configured queue with its depth and usage, by priority then name.
    func queueViews() -> [QueueView] {
        let now = clock.now()
        jobMetrics.trim(now: now)
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
                var view = QueueView(
                    name: queue.name,
                    priority: queue.priority,
                    nodeSelector: queue.nodeSelector,
                    maxRunningGpusPerUser: queue.maxRunningGPUsPerUser,
                    defaultTimeLimit: queue.defaultTimeLimit,
                    pending: pending[queue.name] ?? 0,
                    running: running[queue.name] ?? 0,
                    gpusInUse: gpus[queue.name] ?? 0
                )
                view.preemptible = queue.preemptible ? true : nil
                view.maxPriority = queue.maxPriority
                view.idleCancelAfter = queue.idleCancelAfter
                if let waits = jobMetrics.waitFigures(queue: queue.name, now: now) {
                    view.waitP50Seconds = waits.p50
                    view.waitP95Seconds = waits.p95
                    view.waitsCounted = waits.count
                }
                return view
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
        let gang = Scheduler.gangSummary(job: job, lines: lines, snapshot: snapshot, policy: settings.policy)
        let waiting = job.state == .queued ? job.pendingReason.flatMap { notResources($0, job) } : nil
        let parts = [waiting, gang].compactMap { $0 }
        response.summary = parts.isEmpty ? nil : parts.joined(separator: "\n")
        return response
    }

    /// For a job that waits on something other than free resources, what it waits on: the node lines below
    /// may say `fits`, which is true of the nodes and not why the job waits (issue 18).
    func notResources(_ reason: PendingReason, _ job: Job) -> String? {
        let queue = settings.policy.queue(named: job.spec.queue)
        switch reason {
        case .dependency:
            let open = job.spec.dependsOn.filter { dependencyState($0) != .succeeded }
            let list = open.prefix(5).map(\.rawValue).joined(separator: ", ")
            return "waits for its dependencies to succeed (\(list)); the nodes are not why it waits"
        case .queueLimit:
            let limit = queue.maxRunningGPUsPerUser.map(String.init) ?? "?"
            return
                "\(job.user) holds queue \(queue.name)'s limit of \(limit) GPUs per user (max_running_gpus_per_user): "
                + "it starts when some are freed, whatever the nodes say"
        case .priority:
            return "it would delay the job holding the backfill reservation, which starts first: it waits even where "
                + "a node says fits"
        case .arrayLimit:
            let limit = job.array?.limit.map(String.init) ?? "?"
            return
                "\(limit) tasks of array \(job.array?.array.rawValue ?? "?") already run (%\(limit)): it starts when one ends"
        case .held:
            guard let hold = job.hold else { return "held: it starts only once released" }
            let who = hold.byAdmin ? "admin \(hold.by) (only an admin can release it)" : hold.by
            return "held by \(who): it starts only once released (corral release \(job.id))"
        case .preempting:
            let victims = (preemptionPlans[job.id] ?? []).map(\.rawValue).joined(separator: ", ")
            return victims.isEmpty
                ? "it waits for lower-tier jobs it preempted to stop, then starts"
                : "will preempt \(victims) (queue \(queue.name) is of a higher tier): it starts once they have stopped"
        case .backoff:
            let when = job.notBefore.map { " (at \(WireTime.format($0)))" } ?? ""
            return "retried after a failure of its own, it waits out its backoff\(when) before it can start"
        case .resources, .noFeasibleNode:
            return nil
        }
    }
}
