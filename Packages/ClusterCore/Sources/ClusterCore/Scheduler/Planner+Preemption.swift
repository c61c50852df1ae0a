/// Preemption (issue 15), decided in the pass like everything else. A job that cannot start now, in a queue of
/// a higher priority (its tier) than some `preemptible` queue, looks for the node where stopping the fewest
/// running jobs of those queues frees enough for it, the cheapest on ties (least work lost: GPU-seconds run so
/// far, then node order). Never a job of its own tier or above, never one that has run less than the policy's
/// minimum, never a stop that would still leave it unable to fit. Jobs already stopping count as free, so a
/// preemptor waiting for its victims to go asks for no more. The node is then held for it for the rest of the
/// pass, so a job later in order cannot take what the preemption frees. A gang victim stops whole (its other
/// ranks too), and a gang preempts for all its ranks at once.
extension Planner {
    /// A running job on one node, as a possible victim.
    struct Victim {
        var job: JobID
        var gpus: GPUMask
        var cpus: Int
        var memory: Int64
        var tier: Int
        var preemptible: Bool
        var startedAt: Timestamp?
        var stopping: Bool
        var stoppingFor: JobID?

        /// GPU-seconds (CPU-seconds for CPU-only jobs, weighted down) run so far: the work a stop throws away.
        func lostWork(at now: Timestamp) -> Double {
            let seconds = Double(((startedAt.map { now - $0 }) ?? .zero).milliseconds) / 1000
            return seconds * (gpus.count > 0 ? Double(gpus.count) : 0.001 * Double(max(cpus, 1)))
        }
    }

    /// Whether any queue of a lower priority than this one is preemptible: else nothing to look for.
    func mayPreempt(_ queue: QueueConfig) -> Bool {
        policy.queues.values.contains { $0.preemptible && $0.priority < queue.priority }
    }

    /// Tries to make room for `job` by preemption; true when it did (or waits for jobs already stopping), and
    /// the job's reason is then `Preempting`. A gang (`ranks` > 1) preempts whole, like it runs: on the `ranks`
    /// nodes where its ranks cost the fewest victims (a node where a rank fits now costs none), the cheapest on
    /// ties, all of them held for it, or not at all.
    mutating func preempt(
        for job: Job,
        request: Resources,
        ranks: Int = 1,
        classIndex: Int,
        queue: QueueConfig
    ) -> Bool {
        guard mayPreempt(queue) else { return false }
        var options: [(count: Int, lost: Double, ordinal: Int, victims: [Victim])] = []
        for ordinal in views.indices where mayHold(ordinal, for: job.id, classIndex: classIndex) {
            guard
                let found = cheapestVictims(
                    on: ordinal,
                    for: job.id,
                    request: request,
                    classIndex: classIndex,
                    tier: queue.priority
                )
            else { continue }
            options.append((found.count, found.reduce(0) { $0 + $1.lostWork(at: now) }, ordinal, found))
        }
        guard options.count >= ranks, ranks > 0 else { return false }
        let chosen = options.sorted { ($0.count, $0.lost, $0.ordinal) < ($1.count, $1.lost, $1.ordinal) }.prefix(ranks)
        var ids: [JobID] = []
        for option in chosen {
            for victim in option.victims where !ids.contains(victim.job) { ids.append(victim.job) }
            hold(option.ordinal, for: request, classIndex: classIndex)
        }
        if !ids.isEmpty {
            chosenVictims.formUnion(ids)
            let first = chosen.first?.ordinal ?? 0
            schedule.preemptions.append(Schedule.Preemption(job: job.id, victims: ids, node: views[first].id))
        }
        schedule.pending[job.id] = .preempting
        return true
    }

    /// A node a preemptor may take: of its class, not held for another preemptor, not reserved for another job.
    func mayHold(_ ordinal: Int, for job: JobID, classIndex: Int) -> Bool {
        guard indexes[classIndex].eligible[ordinal], !preemptionHolds.contains(ordinal) else { return false }
        return !reserved(ordinal, forOtherThan: job)
    }

    func cheapestVictims(on ordinal: Int, for job: JobID, request: Resources, classIndex: Int, tier: Int) -> [Victim]? {
        let usable = indexes[classIndex].usable[ordinal]
        var gpus = usable.subtracting(free.taken[ordinal])
        var cpus = free.cpus[ordinal]
        var memory = free.memory[ordinal]
        let all = victims[ordinal]
        // Leaving anyway: free for anyone, but what a preemption frees only for its own preemptor.
        for leaving in all where leaving.stopping && (leaving.stoppingFor == nil || leaving.stoppingFor == job) {
            gpus = gpus.union(leaving.gpus.intersection(usable))
            cpus += leaving.cpus
            memory += leaving.memory
        }
        func fits(_ extra: [Victim]) -> Bool {
            var (g, c, m) = (gpus, cpus, memory)
            for victim in extra {
                g = g.union(victim.gpus.intersection(usable))
                c += victim.cpus
                m += victim.memory
            }
            return g.count >= request.gpus && c >= request.cpus && m >= request.memory
        }
        if fits([]) { return [] }
        let minimum = Duration.seconds(policy.preemptionMinRuntime)
        let candidates = all.filter { victim in
            guard !victim.stopping, victim.preemptible, victim.tier < tier, !chosenVictims.contains(victim.job),
                let started = victim.startedAt, now - started >= minimum
            else { return false }
            return true
        }
        .sorted { ($0.lostWork(at: now), $0.job) < ($1.lostWork(at: now), $1.job) }
        var chosen: [Victim] = []
        for victim in candidates where !fits(chosen) { chosen.append(victim) }
        guard fits(chosen) else { return nil }
        for victim in chosen.reversed() {
            let without = chosen.filter { $0.job != victim.job }
            if fits(without) { chosen = without }
        }
        return chosen
    }

    /// Keeps what is free on the node for the preemptor for the rest of the pass: later jobs cannot take it.
    mutating func hold(_ ordinal: Int, for request: Resources, classIndex: Int) {
        preemptionHolds.insert(ordinal)
        let before = free[ordinal]
        let available = indexes[classIndex].usable[ordinal].subtracting(before.taken)
        var gpus = GPUMask()
        for position in available.positions.prefix(max(request.gpus, 0)) { gpus.insert(position) }
        free.taken[ordinal] = before.taken.union(gpus)
        free.cpus[ordinal] -= min(max(before.cpus, 0), request.cpus)
        free.memory[ordinal] -= min(max(before.memory, 0), request.memory)
        let after = free[ordinal]
        for position in indexes.indices { indexes[position].update(ordinal, before: before, after: after) }
    }

    /// The running jobs on each node as possible victims, from what the snapshot says is held.
    static func victims(_ held: [HeldResources], views: [NodeView], policy: SchedulingPolicy) -> [[Victim]] {
        let ordinalOf = Planner.ordinals(views)
        var result = Array(repeating: [Victim](), count: views.count)
        for allocation in held {
            guard let job = allocation.job, let ordinal = ordinalOf[allocation.node] else { continue }
            let gpus = views[ordinal].mask(ofIndices: allocation.gpuIndices)
            result[ordinal].append(victim(job: job, allocation, gpus: gpus, policy: policy))
        }
        return result
    }

    static func victim(job: JobID, _ allocation: HeldResources, gpus: GPUMask, policy: SchedulingPolicy) -> Victim {
        let queue = policy.queue(named: allocation.queue)
        return Victim(
            job: job,
            gpus: gpus,
            cpus: allocation.resources.cpus,
            memory: allocation.resources.memory,
            tier: queue.priority,
            preemptible: queue.preemptible,
            startedAt: allocation.startedAt,
            stopping: allocation.stopping,
            stoppingFor: allocation.stoppingFor
        )
    }
}
