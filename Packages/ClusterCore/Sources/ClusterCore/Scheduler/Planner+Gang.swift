/// Gang placement: all ranks at once or none. A gang takes `nodes` distinct nodes, each with the job's
/// resources free now (GPUs of its type), none of them a node whose reservation it would delay. With a
/// queue topology label, nodes sharing one value are preferred (the tightest group that holds the gang);
/// without enough of them, any nodes do. A gang that cannot start holds nothing, and when it is the first
/// job that cannot start (or a protected one, `Planner+Reservations`) it gets a backfill reservation, on as many nodes as it has ranks.
extension Planner {
    mutating func considerGang(_ job: Job) {
        let queue = policy.queue(named: job.spec.queue)
        let request = job.spec.resources
        let ranks = job.spec.nodes
        let classIndex = withUnsafePointer(to: job) { self.index(for: $0, queue: queue) }
        guard indexes[classIndex].countThatCouldFit(request, atLeast: ranks) else {
            schedule.pending[job.id] = .noFeasibleNode
            return
        }
        let userQueue = UserQueue(user: job.user, queue: queue.name)
        if let limit = queue.maxRunningGPUsPerUser, request.gpus > 0,
            runningGPUs[userQueue, default: 0] + request.gpus * ranks > limit
        {
            schedule.pending[job.id] = .queueLimit
            return
        }
        let shape = GangShape(shape: Shape(classIndex: classIndex, resources: request), nodes: ranks)
        if failedGangs.contains(shape) {
            reserve(job.id, request: request, ranks: ranks, classIndex: classIndex)
            schedule.pending[job.id] = .resources
            return
        }
        let end = now + .seconds(policy.timeLimit(of: job.spec))
        var candidates: [Candidate] = []
        var heldBack = false
        let index = indexes[classIndex]
        for ordinal in index.eligible.indices where index.eligible[ordinal] {
            let freeGPUs = index.freeCount(ordinal, free)
            guard freeGPUs >= request.gpus, free.cpus[ordinal] >= request.cpus, free.memory[ordinal] >= request.memory
            else { continue }
            // Which GPUs matters only where a reservation might be delayed, and for the nodes finally chosen.
            if reserved(ordinal, forOtherThan: job.id),
                !reservationsAllow(
                    ordinal,
                    gpus: pickGPUs(request.gpus, classIndex: classIndex, ordinal: ordinal),
                    resources: request,
                    end: end,
                    except: job.id
                )
            {
                heldBack = true
                continue
            }
            candidates.append(Candidate(ordinal: ordinal, freeGPUs: freeGPUs))
        }
        guard candidates.count >= ranks else {
            if preempt(for: job, request: request, ranks: ranks, classIndex: classIndex, queue: queue) { return }
            if !heldBack { failedGangs.insert(shape) }
            reserve(job.id, request: request, ranks: ranks, classIndex: classIndex)
            schedule.pending[job.id] = heldBack && !holdsReservation(job.id) ? .priority : .resources
            return
        }
        let (chosen, topology) = choose(ranks, from: candidates, label: queue.topologyLabel)
        var placements: [Placement] = []
        for candidate in chosen {
            let gpus = pickGPUs(request.gpus, classIndex: classIndex, ordinal: candidate.ordinal)
            take(candidate.ordinal, gpus: gpus, request: request, end: end, userQueue: userQueue)
            placements.append(
                Placement(node: views[candidate.ordinal].id, gpuIndices: views[candidate.ordinal].indices(of: gpus))
            )
        }
        if let task = job.array { arrayRunning[task.array, default: 0] += 1 }
        schedule.gangAssignments.append(Schedule.GangAssignment(job: job.id, ranks: placements, topology: topology))
    }

    /// A node that could take a rank now, and how many usable GPUs it has free.
    struct Candidate {
        var ordinal: Int
        var freeGPUs: Int
    }

    /// Best fit among the candidates (fewest free usable GPUs, then fewest free CPUs, then node order); with a
    /// topology label, from the smallest group of nodes sharing one value that holds the gang.
    func choose(_ count: Int, from candidates: [Candidate], label: String?) -> ([Candidate], String?) {
        let tightest = candidates.sorted { a, b in
            if a.freeGPUs != b.freeGPUs { return a.freeGPUs < b.freeGPUs }
            if free.cpus[a.ordinal] != free.cpus[b.ordinal] { return free.cpus[a.ordinal] < free.cpus[b.ordinal] }
            return a.ordinal < b.ordinal
        }
        guard let label else { return (Array(tightest.prefix(count)), nil) }
        var groups: [String: [Candidate]] = [:]
        for candidate in tightest {
            guard let value = views[candidate.ordinal].node.labels[label] else { continue }
            groups[value, default: []].append(candidate)
        }
        let fitting = groups.filter { $0.value.count >= count }
        guard let best = fitting.min(by: { ($0.value.count, $0.key) < ($1.value.count, $1.key) }) else {
            return (Array(tightest.prefix(count)), nil)
        }
        return (Array(best.value.prefix(count)), "\(label)=\(best.key)")
    }
}

extension FitIndex {
    /// Whether at least `count` nodes of the class could each run the request when empty.
    func countThatCouldFit(_ request: Resources, atLeast count: Int) -> Bool {
        guard couldEverFit(request) else { return false }
        var found = 0
        for ordinal in eligible.indices where eligible[ordinal] && usable[ordinal].count >= request.gpus {
            if nodeCPUs[ordinal] >= request.cpus && nodeMemory[ordinal] >= request.memory {
                found += 1
                if found >= count { return true }
            }
        }
        return false
    }
}
