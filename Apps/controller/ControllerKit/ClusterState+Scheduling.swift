import ClusterCore
import ClusterStore
import CorralSupport

/// Scheduling passes: a snapshot goes to the pure scheduler, and its plan is committed here.
extension ClusterState {
    /// What the scheduler reads: queued jobs (from the index, never a scan of all jobs), nodes, what live
    /// allocations hold with their owners and expected ends, the states of the pending jobs' dependencies,
    /// and the fair-share usage.
    func snapshot(now: Timestamp) -> ClusterSnapshot {
        let pending = queued.compactMap { jobs[$0] }
        var dependencyStates: [JobID: JobState] = [:]
        for job in pending {
            for dependency in job.spec.dependsOn { dependencyStates[dependency] = jobs[dependency]?.state }
        }
        let held = live.values.map { allocation -> HeldResources in
            let job = jobs[allocation.id.job]
            let started = job?.currentAttempt?.startedAt
            let limit = job.map { settings.policy.timeLimit(of: $0.spec) }
            return HeldResources(
                node: allocation.node,
                gpuIndices: allocation.gpuIndices,
                resources: allocation.resources,
                job: allocation.id.job,
                user: job?.user,
                queue: job?.spec.queue ?? SchedulingPolicy.defaultQueueName,
                allocatedAt: allocation.allocatedAt,
                expectedEnd: limit.map { (started ?? allocation.allocatedAt) + .seconds($0) }
            )
        }
        return ClusterSnapshot(
            pending: pending,
            nodes: Array(nodes.values),
            held: held,
            jobStates: dependencyStates,
            usage: usage,
            now: now
        )
    }

    /// A job whose dependency ended without succeeding can never run: it fails, saying which and why.
    func failJobsWithFailedDependencies(_ failed: [JobID: JobID]) {
        for (id, dependency) in failed {
            guard var job = jobs[id], job.state == .queued, let state = jobs[dependency]?.state else { continue }
            do {
                _ = try transition(&job, .dependencyFailed(dependency, state))
            } catch {
                log.error("cannot fail job \(id) for its dependency: \(error)")
            }
        }
    }

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
        let schedule = Scheduler.plan(snapshot(now: now), policy: settings.policy)
        failJobsWithFailedDependencies(schedule.failedDependencies)
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
