/// What live allocations hold, kept between passes and changed one allocation at a time (issue 16): the free
/// state of each node, what frees when, the latest end, the preemption victims and the GPUs per user and queue.
/// Building these from every held allocation was 41 % of a pass over 1,000 nodes with 30 pending jobs; kept
/// here, a pass starts from copies of them, and a change costs what the one node it touches holds.
///
/// It lives in `PreparedNodes` (`trackHeld`), whose node views it is indexed by, and is carried over when the
/// owner prepares new nodes. A pass given it reads it instead of the snapshot's `held`, and plans exactly what a
/// pass building all of it from that list plans (`HeldLedgerTests`, on random event sequences).
///
/// Ends are kept as they are and compared with now where they are read (a pass clamps an overdue end to its
/// own now). An allocation that says neither when it ends nor when it was allocated counts as allocated when it
/// was put in; the controller always says.
struct HeldLedger: Sendable {
    private(set) var entries: [AllocationID: HeldResources] = [:]
    let policy: SchedulingPolicy
    /// By node ordinal: the allocations held there.
    private var onNode: [Set<AllocationID>]
    /// Allocations by job, for an owner that recomputes a job's allocations after each of its events.
    private(set) var byJob: [JobID: Set<AllocationID>] = [:]
    /// When an allocation without times was put in (see above).
    private var putAt: [AllocationID: Timestamp] = [:]
    private(set) var free: FreeState
    private(set) var releases: [[Release]]
    /// By ordinal: the latest end of what is held there, nil when nothing is.
    private(set) var lastEnd: [Timestamp?]
    private(set) var victims: [[Planner.Victim]]
    /// GPUs per user and queue, of allocations that name a user.
    private(set) var runningGPUs: [Planner.UserQueue: Int] = [:]

    init(views: [NodeView], policy: SchedulingPolicy) {
        self.policy = policy
        onNode = Array(repeating: [], count: views.count)
        free = FreeState(
            taken: Array(repeating: GPUMask(), count: views.count),
            cpus: views.map(\.node.cpus),
            memory: views.map(\.node.memory)
        )
        releases = Array(repeating: [], count: views.count)
        lastEnd = Array(repeating: nil, count: views.count)
        victims = Array(repeating: [], count: views.count)
    }

    /// Sets what one allocation holds (nil: released), and brings the node it is or was on up to date.
    mutating func set(
        _ id: AllocationID,
        _ held: HeldResources?,
        at now: Timestamp,
        views: [NodeView],
        ordinalOf: [NodeID: Int]
    ) {
        let old = entries[id]
        if old == held { return }
        if let old {
            count(old, sign: -1)
            byJob[id.job]?.remove(id)
            if byJob[id.job]?.isEmpty == true { byJob[id.job] = nil }
        }
        if let held {
            count(held, sign: 1)
            byJob[id.job, default: []].insert(id)
            if held.expectedEnd == nil && held.allocatedAt == nil {
                if putAt[id] == nil { putAt[id] = now }
            } else {
                putAt[id] = nil
            }
        } else {
            putAt[id] = nil
        }
        entries[id] = held
        var touched: [Int] = []
        if let node = old?.node, let ordinal = ordinalOf[node] {
            onNode[ordinal].remove(id)
            touched.append(ordinal)
        }
        if let node = held?.node, let ordinal = ordinalOf[node] {
            onNode[ordinal].insert(id)
            if !touched.contains(ordinal) { touched.append(ordinal) }
        }
        for ordinal in touched { recompute(ordinal, view: views[ordinal]) }
    }

    private mutating func count(_ held: HeldResources, sign: Int) {
        let gpuCount = max(held.resources.gpus, held.gpuIndices.count)
        guard let user = held.user, gpuCount > 0 else { return }
        let key = Planner.UserQueue(user: user, queue: held.queue)
        let total = runningGPUs[key, default: 0] + sign * gpuCount
        runningGPUs[key] = total == 0 ? nil : total
    }

    /// When it will have ended by its time limit, before comparing with now.
    func end(of id: AllocationID, _ held: HeldResources) -> Timestamp {
        if let end = held.expectedEnd { return end }
        return (held.allocatedAt ?? putAt[id] ?? .zero) + .seconds(policy.timeLimit(of: held.queue))
    }

    /// The same allocations on other nodes or under another policy; those without times keep when they came.
    func rebuilt(views: [NodeView], ordinalOf: [NodeID: Int], policy: SchedulingPolicy) -> HeldLedger {
        var ledger = HeldLedger(views: views, policy: policy)
        for (id, held) in entries {
            ledger.set(id, held, at: putAt[id] ?? .zero, views: views, ordinalOf: ordinalOf)
        }
        return ledger
    }

    /// One node's free state, releases, latest end and victims, from what is held there: a node holds few
    /// allocations, and GPUs two of them claim stay taken until both are gone.
    private mutating func recompute(_ ordinal: Int, view: NodeView) {
        var taken = GPUMask()
        var cpus = view.node.cpus
        var memory = view.node.memory
        var nodeReleases: [Release] = []
        var nodeVictims: [Planner.Victim] = []
        var last: Timestamp?
        for id in onNode[ordinal] {
            guard let held = entries[id] else { continue }
            let gpus = view.mask(ofIndices: held.gpuIndices)
            let end = end(of: id, held)
            taken = taken.union(gpus)
            cpus -= held.resources.cpus
            memory -= held.resources.memory
            nodeReleases.append(Release(gpus: gpus, cpus: held.resources.cpus, memory: held.resources.memory, end: end))
            last = max(last ?? end, end)
            if let job = held.job { nodeVictims.append(Planner.victim(job: job, held, gpus: gpus, policy: policy)) }
        }
        free.taken[ordinal] = taken
        free.cpus[ordinal] = cpus
        free.memory[ordinal] = memory
        releases[ordinal] = nodeReleases
        lastEnd[ordinal] = last
        victims[ordinal] = nodeVictims
    }
}

extension PreparedNodes {
    /// Starts keeping what `held` holds (by allocation), under `policy`'s time limits and tiers; a pass then
    /// reads it instead of the snapshot's `held`. `now` dates the allocations that give no times.
    public mutating func trackHeld(
        _ held: [AllocationID: HeldResources],
        policy: SchedulingPolicy,
        now: Timestamp
    ) {
        var ledger = HeldLedger(views: views, policy: policy)
        for (id, resources) in held { ledger.set(id, resources, at: now, views: views, ordinalOf: ordinalOf) }
        self.held = ledger
    }

    /// Whether it keeps the held allocations (`trackHeld`).
    public var tracksHeld: Bool { held != nil }

    /// The policy it keeps them under; a pass with another policy builds them again.
    public var heldPolicy: SchedulingPolicy? { held?.policy }

    /// Sets what one allocation holds (nil: released). Ignored until `trackHeld`.
    public mutating func setHeld(_ id: AllocationID, _ resources: HeldResources?, now: Timestamp) {
        held?.set(id, resources, at: now, views: views, ordinalOf: ordinalOf)
    }

    /// The allocations it keeps for a job.
    public func heldAllocations(of job: JobID) -> Set<AllocationID> { held?.byJob[job] ?? [] }

    /// Everything it keeps, by allocation (to compare with what the owner holds).
    public var heldEntries: [AllocationID: HeldResources] { held?.entries ?? [:] }

    /// New nodes, keeping what `other` keeps of the held allocations.
    public init(_ nodes: [Node], keepingHeldOf other: PreparedNodes?) {
        self.init(nodes)
        held = other?.held?.rebuilt(views: views, ordinalOf: ordinalOf, policy: other!.held!.policy)
    }
}
