import ClusterCore
import CorralSupport

/// What live allocations hold, as the scheduler reads it: kept in the prepared nodes between passes and
/// changed by event (issue 16; `HeldLedger` in ClusterCore). Each commit recomputes the allocations of the
/// jobs it touched, so a pass no longer maps every allocation. Debug builds (every test) compare the kept
/// allocations with all of them before each pass.
extension ClusterState {
    /// What an allocation holds, with its owner, queue, expected end and whether it is leaving.
    func heldResources(_ allocation: Allocation) -> HeldResources {
        let job = jobs[allocation.id.job]
        let started = job?.attempts.first { $0.number == allocation.id.attempt }?.startedAt
        let limit = job.map { settings.policy.timeLimit(of: $0.spec) }
        var held = HeldResources(
            node: allocation.node,
            gpuIndices: allocation.gpuIndices,
            resources: allocation.resources,
            job: allocation.id.job,
            user: job?.user,
            queue: job?.spec.queue ?? SchedulingPolicy.defaultQueueName,
            allocatedAt: allocation.allocatedAt,
            expectedEnd: limit.map { (started ?? allocation.allocatedAt) + .seconds($0) }
        )
        held.startedAt = started
        // Leaving: asked to stop (a cancel, a preemption, a failed gang rank's peers), or LOST for good.
        let lostForGood =
            job.map { $0.state == .lost && !JobLifecycle.mayReconnect($0, attempt: allocation.id.attempt) } ?? false
        held.stopping = allocation.isStopping || lostForGood
        if case .preempt(let by)? = job?.stopRequest?.reason { held.stoppingFor = by }
        return held
    }

    /// Every allocation's holding, by allocation.
    func allHeld() -> [AllocationID: HeldResources] {
        var held: [AllocationID: HeldResources] = [:]
        held.reserveCapacity(allocations.count)
        for (id, allocation) in allocations { held[id] = heldResources(allocation) }
        return held
    }

    /// The prepared nodes for a pass: those kept while no node was stored since (new ones otherwise, keeping
    /// what was held), tracking what is held from the first pass on.
    func preparedForPass(_ now: Timestamp) -> PreparedNodes {
        var nodes: PreparedNodes
        if let prepared, prepared.version == nodesVersion {
            nodes = prepared.nodes
        } else {
            nodes = PreparedNodes(Array(self.nodes.values), keepingHeldOf: prepared?.nodes)
        }
        // From the first pass on; a pass under another policy rebuilds the kept state itself (`Planner.init`).
        if !nodes.tracksHeld { nodes.trackHeld(allHeld(), policy: settings.policy, now: now) }
        #if DEBUG
        let kept = nodes.heldEntries
        let all = allHeld()
        if kept != all {
            let differing = Set(kept.keys).union(all.keys).filter { kept[$0] != all[$0] }.sorted()
            assertionFailure(
                "the scheduler's kept allocations differ from the held ones at \(differing.prefix(5)): "
                    + "\(differing.prefix(5).map { "kept \(String(describing: kept[$0])), held \(String(describing: all[$0]))" })"
            )
        }
        #endif
        return nodes
    }

    /// After a commit: the allocations of every job it touched, put in the kept ledger again (released ones
    /// taken out). A job's holding changes only through its own events and the effects that hold, stop or
    /// release an allocation; a renewed lease or a redelivery changes nothing the scheduler reads, so a
    /// heartbeat's renewals cost nothing here.
    func refreshHeld(after changes: ChangeSet) {
        guard let kept = prepared, kept.nodes.tracksHeld else { return }
        var ids = Set<AllocationID>()
        var touched = Set<JobID>()
        func note(_ effect: LifecycleEffect) {
            switch effect {
            case .hold(let allocation): ids.insert(allocation.id)
            case .release(let id), .stop(let id): ids.insert(id)
            case .renewLease, .redeliver, .wake, .requestPass: break
            }
        }
        for outcome in changes.outcomes {
            touched.insert(outcome.job.id)
            outcome.effects.forEach(note)
        }
        changes.effects.forEach(note)
        for job in touched { ids.formUnion(kept.nodes.heldAllocations(of: job)) }
        put(ids)
    }

    /// The kept allocations of these jobs put in again (a job that left memory).
    func refreshHeld(of jobs: [JobID]) {
        guard let kept = prepared, kept.nodes.tracksHeld else { return }
        put(Set(jobs.flatMap { kept.nodes.heldAllocations(of: $0) }))
    }

    private func put(_ ids: Set<AllocationID>) {
        guard var kept = prepared, kept.nodes.tracksHeld, !ids.isEmpty else { return }
        prepared = nil  // not copied on write below
        let now = clock.now()
        for id in ids { kept.nodes.setHeld(id, allocations[id].map(heldResources), now: now) }
        prepared = kept
    }
}
