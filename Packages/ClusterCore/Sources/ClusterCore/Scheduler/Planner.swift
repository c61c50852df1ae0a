/// One scheduling pass: the free state of every node, updated as jobs are placed in order, so no GPU is
/// given twice; the best-fit indexes by job class; the queue usage per user; the backfill reservation.
struct Planner {
    struct ClassKey: Hashable {
        var queue: String
        var gpuType: String?
        var gpuMemoryMiB: Int?
        var labels: [String: String]
        /// Every field of `Requirement` belongs here: jobs of one class share one fit index.
        var needsContainers: Bool
        var stageSources: [String]
    }

    struct UserQueue: Hashable {
        var user: String
        var queue: String
    }

    /// A request that found no node now: an identical later one will not either, as a pass only takes.
    struct Shape: Hashable {
        var classIndex: Int
        var resources: Resources
    }

    struct GangShape: Hashable {
        var shape: Shape
        var nodes: Int
    }

    let policy: SchedulingPolicy
    let now: Timestamp
    let jobStates: [JobID: JobState]
    /// Sorted by node id: a node's ordinal is its rank, so ties by ordinal are ties by id.
    let views: [NodeView]
    var free: FreeState
    var releases: [[Release]]
    var indexes: [FitIndex] = []
    var indexOfClass: [ClassKey: Int] = [:]
    var lastClass: (key: ClassKey, index: Int)?
    var runningGPUs: [UserQueue: Int] = [:]
    var failedShapes: Set<Shape> = []
    /// Gangs of a shape (and node count) that found too few nodes now, no reservation standing in their way:
    /// an identical later gang will not find them either.
    var failedGangs: Set<GangShape> = []
    /// Shapes that fit now only on reserved nodes, where a job ending at or after this moment would delay a
    /// reservation: a later identical job that ends no sooner waits too.
    var blockedShapes: [Shape: Timestamp] = [:]
    var names = NameCache()
    /// The backfill reservations (`Planner+Reservations`), in the order they were taken.
    var reservations: [ActiveReservation] = []
    /// Placed tasks per job array, counted up as the pass places more.
    var arrayRunning: [JobID: Int]
    /// By node ordinal: the running jobs there, as preemption victims.
    let victims: [[Victim]]
    /// Jobs this pass already chose to preempt, and nodes it holds for their preemptors.
    var chosenVictims: Set<JobID> = []
    var preemptionHolds: Set<Int> = []
    /// Under shortest-first: the jobs protected this pass (`Scheduler.protected`), which may use the drain node.
    var protectedJobs: Set<JobID> = []
    /// By node ordinal: the latest expected end of what runs there (placements of this pass included).
    var lastEnd: [Timestamp]
    var schedule = Schedule()
    /// Node views and static fits kept across passes, when the caller has them; the pass adds the fits of
    /// the classes it meets.
    var prepared: PreparedNodes?

    init(_ snapshot: ClusterSnapshot, policy: SchedulingPolicy, prepared: PreparedNodes? = nil) {
        self.policy = policy
        now = snapshot.now
        jobStates = snapshot.jobStates
        arrayRunning = snapshot.runningArrayTasks
        self.prepared = prepared
        if let prepared {
            views = prepared.views
            names = prepared.names
        } else {
            views = Self.views(of: snapshot.nodes, names: &names)
        }
        let mayPreempt = policy.queues.values.contains(where: \.preemptible)
        // GPUs per user and queue are read only against a queue's per-user limit: not counted without one.
        let limitsUsers = policy.queues.values.contains { $0.maxRunningGPUsPerUser != nil }
        schedule.pending.reserveCapacity(snapshot.pending.count)
        if let ledger = prepared?.held {
            // Kept between passes (HeldLedger): copies, with ends compared with this pass's now.
            let kept =
                ledger.policy == policy
                ? ledger
                : ledger.rebuilt(
                    views: views,
                    ordinalOf: prepared!.ordinalOf,
                    policy: policy
                )
            self.prepared?.held = kept
            free = kept.free
            releases = kept.releases
            lastEnd = kept.lastEnd.map { max($0 ?? snapshot.now, snapshot.now) }
            victims = mayPreempt ? kept.victims : Array(repeating: [], count: views.count)
            if limitsUsers { runningGPUs = kept.runningGPUs }
            return
        }
        // Read only by `preempt`, which a policy without preemptible queues never enters (`mayPreempt`): not
        // built then (it was a quarter of a pass over 1,000 nodes).
        victims =
            mayPreempt
            ? Self.victims(snapshot.held, views: views, policy: policy)
            : Array(repeating: [], count: views.count)
        let ordinalOf = prepared?.ordinalOf ?? Self.ordinals(views)
        free = FreeState(
            taken: Array(repeating: GPUMask(), count: views.count),
            cpus: views.map(\.node.cpus),
            memory: views.map(\.node.memory)
        )
        releases = Array(repeating: [], count: views.count)
        lastEnd = Array(repeating: snapshot.now, count: views.count)
        for held in snapshot.held {
            let gpuCount = max(held.resources.gpus, held.gpuIndices.count)
            if limitsUsers, let user = held.user, gpuCount > 0 {
                runningGPUs[UserQueue(user: user, queue: held.queue), default: 0] += gpuCount
            }
            guard let ordinal = ordinalOf[held.node] else { continue }
            let gpus = views[ordinal].mask(ofIndices: held.gpuIndices)
            let end = expectedEnd(held)
            free.taken[ordinal] = free.taken[ordinal].union(gpus)
            free.cpus[ordinal] -= held.resources.cpus
            free.memory[ordinal] -= held.resources.memory
            releases[ordinal].append(
                Release(gpus: gpus, cpus: held.resources.cpus, memory: held.resources.memory, end: end)
            )
            lastEnd[ordinal] = max(lastEnd[ordinal], end)
        }
    }

    /// Each view's position, by node id.
    static func ordinals(_ views: [NodeView]) -> [NodeID: Int] {
        var ordinalOf: [NodeID: Int] = [:]
        ordinalOf.reserveCapacity(views.count)
        for (ordinal, view) in views.enumerated() { ordinalOf[view.id] = ordinal }
        return ordinalOf
    }

    /// Nodes by id; of two nodes reported with one id, the first in input order.
    static func views(of nodes: [Node], names: inout NameCache) -> [NodeView] {
        var seen = Set<NodeID>()
        var views: [NodeView] = []
        views.reserveCapacity(nodes.count)
        for node in nodes.sorted(by: { $0.id < $1.id }) where seen.insert(node.id).inserted {
            views.append(NodeView(node, names: &names))
        }
        return views
    }

    /// When a held allocation will have ended by its time limit; never before now (an overdue one is
    /// about to end, not already gone).
    func expectedEnd(_ held: HeldResources) -> Timestamp {
        let end =
            held.expectedEnd
            ?? (held.allocatedAt ?? now) + .seconds(policy.timeLimit(of: held.queue))
        return max(end, now)
    }

    /// Considers `jobs` in `order` (positions in `jobs`).
    mutating func run(_ jobs: [Job], in order: [Int]) -> Schedule {
        // In place: a job is a 560-byte value, and each one passed by value was copied whole, at a random place
        // in the array (the order is not the array's): that copy was a fifth of a pass over a long queue.
        jobs.withUnsafeBufferPointer { jobs in
            guard let base = jobs.baseAddress else { return }
            for index in order { consider(base + index) }
        }
        schedule.reservations = scheduledReservations()
        return schedule
    }

    /// Reads the job's fields in place; only the rarer paths (a gang, a preemption, a placement) take a copy.
    mutating func consider(_ job: UnsafePointer<Job>) {
        let id = job.pointee.id
        // Dependencies first, so a held job whose dependency failed fails now, not once it is released.
        if let reason = dependencyReason(job) {
            schedule.pending[id] = job.pointee.hold != nil && schedule.failedDependencies[id] == nil ? .held : reason
            return
        }
        if job.pointee.hold != nil {
            schedule.pending[id] = .held
            return
        }
        if let notBefore = job.pointee.notBefore, notBefore > now {
            schedule.pending[id] = .backoff
            return
        }
        if let task = job.pointee.array, let limit = task.limit, arrayRunning[task.array, default: 0] >= limit {
            schedule.pending[id] = .arrayLimit
            return
        }
        if job.pointee.spec.isGang { return considerGang(job.pointee) }
        let queue = policy.queue(named: job.pointee.spec.queue)
        let request = job.pointee.spec.resources
        let classIndex = index(for: job, queue: queue)
        guard indexes[classIndex].couldEverFit(request) else {
            schedule.pending[id] = .noFeasibleNode
            return
        }
        let userQueue = UserQueue(user: job.pointee.user, queue: queue.name)
        if let limit = queue.maxRunningGPUsPerUser, request.gpus > 0,
            runningGPUs[userQueue, default: 0] + request.gpus > limit
        {
            schedule.pending[id] = .queueLimit
            return
        }
        let shape = Shape(classIndex: classIndex, resources: request)
        if failedShapes.contains(shape) {
            reserve(id, request: request, classIndex: classIndex)
            schedule.pending[id] = .resources
            return
        }
        let end = now + .seconds(policy.timeLimit(of: job.pointee.spec))
        let drain = drainNode(for: job.pointee, request: request, classIndex: classIndex)
        guard var ordinal = bestNode(request, classIndex: classIndex, end: end, excluding: { $0 == drain }) else {
            // Kept off the draining node only: it waits (no preemption, no reservation), and the shape is no
            // proof that a later job (a short or protected one) will not fit.
            if drain != nil, bestNode(request, classIndex: classIndex, end: end) != nil {
                schedule.pending[id] = .resources
                return
            }
            if preempt(for: job.pointee, request: request, classIndex: classIndex, queue: queue) { return }
            failedShapes.insert(shape)
            reserve(id, request: request, classIndex: classIndex)
            schedule.pending[id] = .resources
            return
        }
        if let blocked = blockedShapes[shape], end >= blocked {
            schedule.pending[id] = .priority
            return
        }
        var gpus = pickGPUs(request.gpus, classIndex: classIndex, ordinal: ordinal)
        if !reservationsAllow(ordinal, gpus: gpus, resources: request, end: end) {
            // It would delay a reserved job there: only a node no reservation holds will do.
            guard
                let other = bestNode(
                    request,
                    classIndex: classIndex,
                    end: end,
                    excluding: { reserved($0) || $0 == drain }
                )
            else {
                blockedShapes[shape] = min(blockedShapes[shape] ?? end, end)
                schedule.pending[id] = .priority
                return
            }
            ordinal = other
            gpus = pickGPUs(request.gpus, classIndex: classIndex, ordinal: ordinal)
        }
        place(job.pointee, on: ordinal, gpus: gpus, end: end, userQueue: userQueue)
    }

    /// Dependency when any dependency has not succeeded; one that finished for good without succeeding
    /// is also reported, so the controller can fail the job.
    mutating func dependencyReason(_ job: UnsafePointer<Job>) -> PendingReason? {
        var waiting = false
        for dependency in job.pointee.spec.dependsOn {
            switch jobStates[dependency] {
            case .succeeded:
                continue
            case .failed, .canceled, .lost:
                schedule.failedDependencies[job.pointee.id] = dependency
                return .dependency
            default:
                waiting = true
            }
        }
        return waiting ? .dependency : nil
    }

    /// The fit index of the job's class. The spec is read in place: a copy of each job's was a tenth of a pass
    /// over a long queue (issue 16).
    mutating func index(for job: UnsafePointer<Job>, queue: QueueConfig) -> Int {
        let key = ClassKey(
            queue: queue.name,
            gpuType: job.pointee.spec.gpuType?.lowercased(),
            gpuMemoryMiB: job.pointee.spec.gpuMemoryMiB,
            labels: job.pointee.spec.labels,
            needsContainers: job.pointee.spec.image != nil,
            stageSources: job.pointee.spec.stage.isEmpty ? [] : job.pointee.spec.stage.map(\.source).sorted()
        )
        // Jobs of one class usually come in runs (an array, a user's batch): comparing with the last is cheaper
        // than hashing every job's key.
        if let last = lastClass, last.key == key { return last.index }
        if let known = indexOfClass[key] {
            lastClass = (key, known)
            return known
        }
        let requirement = Requirement(spec: job.pointee.spec, queue: queue)
        if prepared != nil {
            let fit =
                prepared?.fits[key]
                ?? StaticFit(requirement: requirement, queueName: queue.name, views: views, names: &names)
            prepared?.fits[key] = fit
            indexes.append(FitIndex(requirement: requirement, fit: fit, free: free))
        } else {
            indexes.append(
                FitIndex(requirement: requirement, queueName: queue.name, views: views, free: free, names: &names)
            )
        }
        indexOfClass[key] = indexes.count - 1
        return indexes.count - 1
    }

    /// The node a long, unprotected job may not take under the drain rule (`SchedulingPolicy.drainAfter`): the
    /// one of the class whose jobs end soonest (by their limits; an empty node at once).
    func drainNode(for job: Job, request: Resources, classIndex: Int) -> Int? {
        guard let after = policy.drainAfter, policy.ordering == .shortestFirst,
            policy.timeLimit(of: job.spec) > after, !protectedJobs.contains(job.id)
        else { return nil }
        let index = indexes[classIndex]
        // Among the nodes that could ever hold the job (never its only one), and only with four or more of
        // them: holding a node back costs too much in a small cluster.
        var best: (end: Timestamp, ordinal: Int)?
        var count = 0
        for ordinal in index.eligible.indices where index.eligible[ordinal] {
            guard index.usable[ordinal].count >= request.gpus, index.nodeCPUs[ordinal] >= request.cpus,
                index.nodeMemory[ordinal] >= request.memory
            else { continue }
            count += 1
            let last = max(lastEnd[ordinal], now)
            if let current = best, (current.end, current.ordinal) <= (last, ordinal) { continue }
            best = (last, ordinal)
        }
        return count >= 4 ? best?.ordinal : nil
    }

    /// Where the request goes now, by the policy's placement; nil when it fits nowhere.
    func bestNode(
        _ request: Resources,
        classIndex: Int,
        end: Timestamp,
        excluding excluded: (Int) -> Bool = { _ in false }
    ) -> Int? {
        let index = indexes[classIndex]
        // A job without GPUs spreads under either placement (`FitIndex.spreadFit`); the end-time rule is for
        // GPU jobs, whose packing keeps nodes free for big ones.
        guard policy.placement == .endTime, request.gpus > 0 else {
            return index.bestFit(request, free: free, excluding: excluded)
        }
        var best: (push: Int64, gpus: Int, cpus: Int, memory: Int64, ordinal: Int)?
        for ordinal in index.eligible.indices where index.eligible[ordinal] && !excluded(ordinal) {
            let gpus = index.freeCount(ordinal, free)
            guard gpus >= request.gpus, free.cpus[ordinal] >= request.cpus, free.memory[ordinal] >= request.memory
            else { continue }
            let last = lastEnd[ordinal]
            let key = (
                max(0, (end - last).milliseconds / 1000), gpus - request.gpus, free.cpus[ordinal] - request.cpus,
                free.memory[ordinal] - request.memory, ordinal
            )
            if let current = best, current <= key { continue }
            best = key
        }
        return best?.ordinal
    }

    func pickGPUs(_ count: Int, classIndex: Int, ordinal: Int) -> GPUMask {
        let available = indexes[classIndex].usable[ordinal].subtracting(free.taken[ordinal])
        // The index found at least `count` free usable GPUs here, so a pick exists.
        return DeviceFit.pick(from: available, count: count, on: views[ordinal]) ?? GPUMask()
    }

    mutating func place(_ job: Job, on ordinal: Int, gpus: GPUMask, end: Timestamp, userQueue: UserQueue) {
        take(ordinal, gpus: gpus, request: job.spec.resources, end: end, userQueue: userQueue)
        if let task = job.array { arrayRunning[task.array, default: 0] += 1 }
        schedule.assignments.append(
            Schedule.Assignment(job: job.id, node: views[ordinal].id, gpuIndices: views[ordinal].indices(of: gpus))
        )
    }

    /// Takes one node's share of a placement out of the free state, the indexes, the queue usage and the
    /// reservation.
    mutating func take(_ ordinal: Int, gpus: GPUMask, request: Resources, end: Timestamp, userQueue: UserQueue) {
        let before = free[ordinal]
        free.taken[ordinal] = before.taken.union(gpus)
        free.cpus[ordinal] -= request.cpus
        free.memory[ordinal] -= request.memory
        let after = free[ordinal]
        for position in indexes.indices { indexes[position].update(ordinal, before: before, after: after) }
        releases[ordinal].append(Release(gpus: gpus, cpus: request.cpus, memory: request.memory, end: end))
        lastEnd[ordinal] = max(lastEnd[ordinal], end)
        if request.gpus > 0 { runningGPUs[userQueue, default: 0] += request.gpus }
        for position in reservations.indices {
            reservations[position].take(ordinal, gpus: gpus, resources: request, end: end)
        }
    }
}

extension SchedulingPolicy {
    /// Seconds assumed for an allocation of a queue that gave no time limit.
    func timeLimit(of queueName: String) -> Int {
        queue(named: queueName).defaultTimeLimit ?? defaultTimeLimit
    }
}
