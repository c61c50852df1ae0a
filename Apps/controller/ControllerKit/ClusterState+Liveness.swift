import ClusterCore
import ClusterStore
import CorralSupport

/// The slow tick: launch leases, silent nodes, LOST jobs whose lease has run out, and time limits.
///
/// Never two copies of a job: a job on a silent node becomes LOST after the node timeout, but it is retried
/// elsewhere only when its allocation lease has run out (the agent, unable to renew it, has stopped the job
/// itself by then), when the node comes back having rebooted, or when the agent confirms the process is gone.
extension ClusterState {
    func tick() {
        let now = clock.now()
        expireLaunchLeases(now)
        judgeSilentNodes(now)
        retryLostJobsWhoseLeaseExpired(now)
        enforceTimeLimits(now)
        if now.milliseconds / 1000 % 10 == 0 { persistCredentialUse() }
    }

    /// ALLOCATED jobs whose agent did not accept the launch in time go back to the queue.
    func expireLaunchLeases(_ now: Timestamp) {
        for allocation in live.values where allocation.allocatedAt + settings.launchLease < now {
            guard let job = jobs[allocation.id.job], job.state == .allocated,
                job.currentAttempt?.number == allocation.id.attempt
            else { continue }
            requeueUnaccepted(
                allocation,
                reason: "the agent on \(allocation.node) did not accept the launch within \(settings.launchLease)",
                at: now
            )
        }
    }

    /// ALLOCATED -> QUEUED from the infrastructure budget; the agent is told to forget the launch.
    func requeueUnaccepted(_ allocation: LiveAllocation, reason: String, at now: Timestamp) {
        guard var job = jobs[allocation.id.job], job.state == .allocated else { return }
        job.attempts[job.attempts.count - 1].endedAt = now
        job.infraRetriesUsed += 1
        do {
            _ = try transition(&job, .launchAbandoned(reason: reason))
        } catch {
            log.error("cannot requeue job \(job.id): \(error)")
            return
        }
        release(allocation.id)
    }

    /// Marks nodes silent for longer than the node timeout as lost, unless this controller just started
    /// (every node gets one allocation lease of grace) or most nodes went silent at once (then the fault is
    /// more likely the controller's own network, and nothing is requeued).
    func judgeSilentNodes(_ now: Timestamp) {
        guard now >= startedAt + settings.allocationLease else { return }
        let alive = nodes.values.filter { $0.status != .lost }
        let silent = alive.filter { $0.lastHeartbeat + settings.nodeTimeout < now }
        guard !silent.isEmpty else { return }
        if silent.count >= 3 && silent.count * 2 > alive.count {
            log.warning(
                "\(silent.count) of \(alive.count) nodes went silent at once: suspecting this controller's network, "
                    + "marking none lost"
            )
            return
        }
        for node in silent { markLost(node.id, at: now) }
    }

    func markLost(_ id: NodeID, at now: Timestamp) {
        guard var node = nodes[id] else { return }
        node.status = .lost
        do {
            try database.saveNode(node)
        } catch {
            log.error("cannot record node \(id) as lost: \(error)")
            return
        }
        nodes[id] = node
        log.warning("node \(id) is lost: no heartbeat for \(settings.nodeTimeout)")
        for allocationID in liveByNode[id] ?? [] {
            guard let allocation = live[allocationID], var job = jobs[allocationID.job],
                job.currentAttempt?.number == allocationID.attempt
            else { continue }
            switch job.state {
            case .allocated:
                requeueUnaccepted(allocation, reason: "node \(id) was lost before it accepted the launch", at: now)
            case .starting, .running:
                job.attempts[job.attempts.count - 1].finalState = .lost
                do {
                    _ = try transition(&job, .nodeLost(reason: "node \(id) stopped sending heartbeats"))
                } catch {
                    log.error("cannot mark job \(job.id) lost: \(error)")
                }
            default:
                break
            }
        }
        requestSchedulingPass()
    }

    /// A LOST job is retried once its allocation lease has run out: by then its agent has stopped it.
    func retryLostJobsWhoseLeaseExpired(_ now: Timestamp) {
        for allocation in live.values where allocation.leaseRenewedAt + settings.allocationLease < now {
            guard jobs[allocation.id.job]?.state == .lost else { continue }
            retryLost(allocation.id, reason: "its allocation lease on \(allocation.node) expired", at: now)
        }
    }

    /// Frees a LOST job's allocation and requeues it from the infrastructure budget, if any is left.
    func retryLost(_ allocationID: AllocationID, reason: String, at now: Timestamp) {
        guard var job = jobs[allocationID.job], job.state == .lost, job.currentAttempt?.number == allocationID.attempt
        else { return }
        if job.attempts[job.attempts.count - 1].endedAt == nil { job.attempts[job.attempts.count - 1].endedAt = now }
        // The new state reaches the database before the resources are freed in memory: if it cannot be
        // written, the allocation stays and this is tried again on the next tick.
        defer { if jobs[allocationID.job]?.attempts.last?.endedAt != nil { release(allocationID) } }
        do {
            guard job.infraRetriesUsed < settings.infrastructureRetries else {
                job.message = "lost, and the infrastructure retry budget (\(settings.infrastructureRetries)) is spent"
                try commit(job, events: [])
                return
            }
            job.infraRetriesUsed += 1
            _ = try transition(
                &job,
                .retry(
                    reason:
                        "\(reason): retry \(job.infraRetriesUsed) of \(settings.infrastructureRetries) (node faults)"
                )
            )
        } catch {
            log.error("cannot retry job \(job.id): \(error)")
        }
    }

    /// RUNNING past its time limit: FAILED (time limit reached) and stopped, even if the agent's own
    /// enforcement failed. Its GPUs stay held until the agent confirms the process is gone.
    func enforceTimeLimits(_ now: Timestamp) {
        for allocation in live.values where allocation.stopRequestedAt == nil {
            guard var job = jobs[allocation.id.job], job.state == .running, let limit = job.spec.timeLimit,
                let started = job.currentAttempt?.startedAt, started + .seconds(limit) < now
            else { continue }
            let exit = JobExit(message: "stopped by the controller", timedOut: true)
            job.attempts[job.attempts.count - 1].exit = exit
            job.attempts[job.attempts.count - 1].finalState = .failed
            do {
                _ = try transition(&job, .exited(exit))
            } catch {
                log.error("cannot end job \(job.id) at its time limit: \(error)")
                continue
            }
            live[allocation.id]?.stopRequestedAt = now
            live[allocation.id]?.stopDelivered = false
            wakeAll(node: allocation.node)
        }
    }
}
