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
                    delivered: false
                )
            )
            touchedNodes.insert(assignment.node)
        }
        for (id, reason) in schedule.pending { jobs[id]?.pendingReason = reason }
        for node in touchedNodes { wakeAll(node: node) }
    }

    /// Runs about once a second: launch leases and node liveness.
    func tick() {
        let now = clock.now()
        for allocation in live.values where allocation.allocatedAt + settings.launchLease < now {
            guard var job = jobs[allocation.id.job], job.state == .allocated,
                job.currentAttempt?.number == allocation.id.attempt
            else { continue }
            job.attempts[job.attempts.count - 1].endedAt = now
            job.attempts[job.attempts.count - 1].finalState = .queued
            do {
                let reason = "the agent on \(allocation.node) did not accept the launch within the lease"
                _ = try transition(&job, .launchAbandoned(reason: reason))
                job.infraRetriesUsed += 1
                try commit(job, events: [])
            } catch {
                log.error("cannot requeue job \(job.id): \(error)")
                continue
            }
            release(allocation.id)
        }
        for var node in nodes.values where node.status == .ready && node.lastHeartbeat + settings.nodeTimeout < now {
            node.status = .lost
            do {
                try database.saveNode(node)
                nodes[node.id] = node
                log.warning("node \(node.id) is lost: no heartbeat for \(settings.nodeTimeout)")
            } catch {
                log.error("cannot record node \(node.id) as lost: \(error)")
            }
        }
    }
}
