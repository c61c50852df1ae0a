import ClusterCore
import ClusterStore
import CorralSupport

/// Scheduling passes and the slow tick (leases, silent nodes).
extension ClusterState {
    /// Asks for a pass soon: events arriving within a couple of milliseconds share one pass.
    func requestSchedulingPass() {
        guard !passRequested else { return }
        passRequested = true
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(2))
            await self?.runSchedulingPass()
        }
    }

    func runSchedulingPass() {
        passRequested = false
        guard !queued.isEmpty else { return }
        let now = clock.now()
        let pending = queued.compactMap { jobs[$0] }
        let schedule = Scheduler.computeSchedule(
            pending: pending,
            nodes: Array(nodes.values),
            held: live.values.map(\.held),
            jobState: { [jobs] id in jobs[id]?.state },
            now: now
        )
        var touchedNodes: Set<NodeID> = []
        for assignment in schedule.assignments {
            guard var job = jobs[assignment.job] else { continue }
            let attempt = Attempt(
                number: job.attempts.count + 1,
                node: assignment.node,
                gpuIndices: assignment.gpuIndices,
                resources: job.spec.resources,
                allocatedAt: now
            )
            job.attempts.append(attempt)
            do {
                guard try transition(&job, .allocate(node: assignment.node, gpus: assignment.gpuIndices)) != nil else {
                    continue
                }
            } catch {
                log.error("cannot record the placement of job \(job.id): \(error)")
                continue
            }
            addLive(
                LiveAllocation(
                    id: AllocationID(job: job.id, attempt: attempt.number),
                    node: assignment.node,
                    gpuIndices: assignment.gpuIndices,
                    resources: job.spec.resources,
                    allocatedAt: now,
                    delivered: false,
                    leaseRenewedAt: now
                )
            )
            touchedNodes.insert(assignment.node)
        }
        for (id, reason) in schedule.pending { jobs[id]?.pendingReason = reason }
        for node in touchedNodes { wakeAll(node: node) }
    }
}
