/// Node liveness, in the role of Nomad's reconciler: from the nodes, the live allocations, their leases and
/// the jobs, what must happen now. Three moments call it: the controller's slow tick, an agent's registration
/// and each heartbeat. It decides; the controller carries the actions out (job events through `JobLifecycle`).
///
/// Never two copies of a job: a job on a silent node becomes LOST after the node timeout, but it is retried
/// elsewhere only when the lease its agent holds has run out (the agent, unable to renew it, has stopped the
/// job itself by then), when the node comes back having rebooted, or when its agent says the process is gone.
public enum NodeLiveness {
    /// The slow tick: launch leases, silent nodes, LOST jobs whose lease ran out, and time limits.
    public static func tick(_ view: LivenessView) -> [LivenessAction] {
        var actions: [LivenessAction] = []
        let allocations = view.allocations.values.sorted { $0.id < $1.id }
        let settings = view.settings
        for allocation in allocations where allocation.allocatedAt + settings.launchLease < view.now {
            guard let job = view.liveJob(allocation.id), job.state == .allocated,
                launchMayBeAbandoned(allocation, view)
            else { continue }
            let reason = "the agent on \(allocation.node) did not accept the launch within \(settings.launchLease)"
            actions.append(.job(job.id, .launchLeaseExpired(reason: reason, rank: allocation.id.rank)))
        }
        actions += silentNodes(view, allocations)
        for allocation in allocations where allocation.leaseRenewedAt + view.lease(on: allocation.node) < view.now {
            // A LOST job's processes, and a gang's rank on a lost node whatever its job's state (a gang learns of
            // a lost node in any state, and waits for the lease of a rank there before it decides).
            guard let job = view.liveJob(allocation.id),
                job.state == .lost
                    || (job.liveAttempt?.isGang == true && view.nodes[allocation.node]?.status == .lost
                        && job.liveAttempt?.ranks.first(where: { $0.rank == allocation.id.rank })?.accepted == true)
            else { continue }
            let reason = "its allocation lease on \(allocation.node) expired"
            actions.append(
                .job(job.id, .allocationGone(attempt: allocation.id.attempt, reason: reason, rank: allocation.id.rank))
            )
        }
        for allocation in allocations where !allocation.isStopping {
            guard let job = view.liveJob(allocation.id), job.state == .running, job.stopRequest == nil,
                let limit = job.spec.timeLimit, let started = job.liveAttempt?.startedAt,
                started + .seconds(limit) < view.now
            else { continue }
            actions.append(.job(job.id, .timeLimitReached))
        }
        return actions
    }

    /// A launch its agent has not taken may go back to the queue only when no copy of it can be running: the
    /// agent never had it; or its heartbeats, well after the last delivery, do not list it (a heartbeat that
    /// lists it renews its lease); or whatever the agent had is fenced by now (its lease ran out since the last
    /// delivery). A silent agent may have taken the launch and started the job without being able to say so.
    static func launchMayBeAbandoned(_ allocation: Allocation, _ view: LivenessView) -> Bool {
        guard allocation.delivered else { return true }
        if allocation.leaseRenewedAt + view.lease(on: allocation.node) < view.now { return true }
        guard let node = view.nodes[allocation.node], node.status != .lost else { return false }
        return node.lastHeartbeat > allocation.leaseRenewedAt + view.settings.stopGrace
    }

    /// Nodes silent past the node timeout are lost, with their placed jobs; none within a lease of this
    /// controller's start (agents kept running their jobs meanwhile), and none when most went silent at once.
    static func silentNodes(_ view: LivenessView, _ allocations: [Allocation]) -> [LivenessAction] {
        let alive = view.nodes.values.filter { $0.status != .lost }
        let silent = alive.filter {
            $0.lastHeartbeat + view.settings.nodeTimeout < view.now
                && view.now >= view.startedAt + view.lease(on: $0.id)
        }
        guard !silent.isEmpty else { return [] }
        if silent.count >= 3 && silent.count * 2 > alive.count {
            return [.suspectSelf(silent: silent.count, alive: alive.count)]
        }
        var actions: [LivenessAction] = []
        for node in silent.sorted(by: { $0.id < $1.id }) {
            actions.append(.markLost(node.id))
            for allocation in allocations where allocation.node == node.id {
                guard let job = view.liveJob(allocation.id) else { continue }
                actions.append(.job(job.id, .nodeLost(node.id, reason: "node \(node.id) stopped sending heartbeats")))
            }
        }
        return actions
    }

    /// Whether a node came back from a reboot: it had a boot id and now reports another (then nothing of
    /// before runs there, whatever its agent's records say).
    public static func rebooted(previous: String?, now: String?) -> Bool {
        previous != nil && now != nil && previous != now
    }

    /// An agent (re)registers and lists every allocation it still runs; anything else it had is gone.
    /// `rebooted`: the node came back with a new boot id (`rebooted(previous:now:)`), so nothing of before runs
    /// there. `held`: the node's allocations (the controller's index by node: a registration costs the node's
    /// allocations, not the cluster's).
    public static func registration(
        node: NodeID,
        reported: Set<AllocationID>,
        rebooted: Bool,
        held: [Allocation],
        view: LivenessView
    ) -> [LivenessAction] {
        let why = rebooted ? "node \(node) rebooted" : "the agent on \(node) restarted without it"
        var actions: [LivenessAction] = []
        for allocation in held.sorted(by: { $0.id < $1.id }) where allocation.node == node {
            let id = allocation.id
            let running = reported.contains(id) && !rebooted
            guard let job = view.liveJob(id) else {
                if !running {
                    actions.append(view.jobs[id.job] == nil ? .effect(.release(id)) : .job(id.job, gone(id, why)))
                }
                continue
            }
            let taken = job.liveAttempt?.ranks.first { $0.rank == id.rank }?.accepted == true
            switch job.state {
            case .allocated where taken && !running:
                // A gang's rank its agent had taken, which it no longer runs: that rank is over.
                actions.append(.job(job.id, gone(id, why)))
            case .allocated:
                // The agent has it (its STARTING report is on its way): its lease starts again. Handed to the
                // agent's previous process but not taken: hand it out again (the agent ignores allocation ids it
                // has already seen).
                actions.append(.effect(running ? .renewLease(id) : .redeliver(id)))
            case .starting, .running:
                actions.append(running ? .effect(.renewLease(id)) : .job(job.id, gone(id, why)))
            case .lost where running && JobLifecycle.mayReconnect(job, attempt: id.attempt):
                // Back within the lease, still running it: it runs on.
                actions.append(.job(job.id, .reconnected(attempt: id.attempt, rank: id.rank)))
            case .lost:
                // Still running on a node the job was given up on: stop this copy, whose lease the agent holds
                // again; the job is retried once it is gone.
                if running {
                    actions += [.effect(.renewLease(id)), .effect(.stop(id)), .effect(.wake(node))]
                } else {
                    actions.append(.job(job.id, gone(id, "its process is gone (\(why))")))
                }
            default:
                if !running { actions.append(.job(job.id, gone(id, why))) }
            }
        }
        return actions
    }

    /// A heartbeat lists what the agent runs: those leases are renewed; a LOST job it no longer runs is surely
    /// gone (retried now); a stopping allocation it has stopped listing for a while is gone.
    public static func heartbeat(
        node: NodeID,
        reported: Set<AllocationID>,
        held: [Allocation],
        view: LivenessView
    ) -> [LivenessAction] {
        var actions: [LivenessAction] = []
        let reason = "the agent on \(node) no longer runs it"
        for allocation in held.sorted(by: { $0.id < $1.id }) where allocation.node == node {
            let id = allocation.id
            let job = view.liveJob(id)
            let lost = job?.state == .lost
            if reported.contains(id) {
                actions.append(.effect(.renewLease(id)))
                if let job, lost, JobLifecycle.mayReconnect(job, attempt: id.attempt) {
                    actions.append(.job(job.id, .reconnected(attempt: id.attempt, rank: id.rank)))
                } else if lost {
                    actions += [.effect(.stop(id)), .effect(.wake(node))]
                }
            } else if lost {
                actions.append(.job(id.job, gone(id, reason)))
            } else if let stopAt = allocation.stopRequestedAt, stopAt + view.settings.stopGrace < view.now {
                actions.append(view.jobs[id.job] == nil ? .effect(.release(id)) : .job(id.job, gone(id, reason)))
            }
        }
        return actions
    }

    /// What the agent must stop: allocations it reports that the controller does not want running there, and
    /// every allocation of the node (`held`) the controller asked to stop.
    public static func stopList(
        node: NodeID,
        reported: [AllocationID],
        held: [Allocation],
        allocations: [AllocationID: Allocation]
    ) -> [AllocationID] {
        var stop: [AllocationID] = []
        for id in reported {
            if let allocation = allocations[id], allocation.node == node, !allocation.isStopping { continue }
            if !stop.contains(id) { stop.append(id) }
        }
        for allocation in held.sorted(by: { $0.id < $1.id })
        where allocation.node == node && allocation.isStopping && !stop.contains(allocation.id) {
            stop.append(allocation.id)
        }
        return stop
    }

    private static func gone(_ id: AllocationID, _ reason: String) -> LifecycleEvent {
        .allocationGone(attempt: id.attempt, reason: reason, rank: id.rank)
    }
}
