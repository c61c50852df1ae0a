/// The scheduler: a pure function from a snapshot of the cluster to a plan. It reads nothing and changes
/// nothing; the controller commits the plan. This first version places jobs first-fit in priority order;
/// queues, fair share, best fit and backfill come with the scheduling issue (docs/scheduling.md).
public enum Scheduler {
    /// - Parameters:
    ///   - pending: QUEUED jobs, in any order.
    ///   - nodes: every known node.
    ///   - held: resources held by live allocations.
    ///   - jobState: the state of another job, for `depends_on` (nil when unknown).
    public static func computeSchedule(
        pending: [Job],
        nodes: [Node],
        held: [HeldResources],
        jobState: (JobID) -> JobState?,
        now: Timestamp
    ) -> Schedule {
        var free = FreeCapacity(nodes: nodes, held: held)
        var schedule = Schedule()
        for job in pending.sorted(by: comesFirst) {
            if let reason = dependencyReason(job, jobState: jobState) {
                schedule.pending[job.id] = reason
                continue
            }
            if let (node, gpus) = free.firstFit(job.spec) {
                free.take(node: node, gpus: gpus, resources: job.spec.resources)
                schedule.assignments.append(Schedule.Assignment(job: job.id, node: node, gpuIndices: gpus))
            } else {
                // NoFeasibleNode: no ready, undrained node could run it even when empty.
                schedule.pending[job.id] = free.couldEverFit(job.spec) ? .resources : .noFeasibleNode
            }
        }
        return schedule
    }

    /// Higher priority first, then earlier submission, then id (so the order is total and repeatable).
    public static func comesFirst(_ a: Job, _ b: Job) -> Bool {
        if a.spec.priority != b.spec.priority { return a.spec.priority > b.spec.priority }
        if a.submittedAt != b.submittedAt { return a.submittedAt < b.submittedAt }
        return a.id < b.id
    }

    static func dependencyReason(_ job: Job, jobState: (JobID) -> JobState?) -> PendingReason? {
        for dependency in job.spec.dependsOn where jobState(dependency) != .succeeded {
            return .dependency
        }
        return nil
    }

    /// Whether a node matches a spec's static requirements (type, labels, enough hardware when empty).
    public static func matches(_ spec: JobSpec, node: Node) -> Bool {
        if !spec.labels.allSatisfy({ node.labels[$0.key] == $0.value }) { return false }
        let gpus = usableGPUs(of: node, for: spec)
        return spec.resources.gpus <= gpus.count && spec.resources.cpus <= node.cpus
            && spec.resources.memory <= node.memory
    }

    /// Healthy GPUs of a node that satisfy the spec's gpu_type (matched case-insensitively within the
    /// GPU's name, so `H100` matches "NVIDIA H100 80GB HBM3").
    static func usableGPUs(of node: Node, for spec: JobSpec) -> [GPU] {
        let wanted = spec.gpuType?.lowercased()
        return node.gpus.filter { gpu in
            gpu.healthy && (wanted == nil || gpu.name.lowercased().contains(wanted!))
        }
    }
}

/// Free resources per node, updated as the pass places jobs, so no GPU is given twice in one plan.
struct FreeCapacity {
    var nodes: [Node]
    var usedGPUs: [NodeID: Set<Int>] = [:]
    var used: [NodeID: Resources] = [:]

    init(nodes: [Node], held: [HeldResources]) {
        self.nodes = nodes.sorted { $0.id < $1.id }
        for allocation in held {
            usedGPUs[allocation.node, default: []].formUnion(allocation.gpuIndices)
            used[allocation.node, default: .zero] = used[allocation.node, default: .zero] + allocation.resources
        }
    }

    func firstFit(_ spec: JobSpec) -> (NodeID, [Int])? {
        for node in nodes where node.isSchedulable && Scheduler.matches(spec, node: node) {
            let taken = usedGPUs[node.id] ?? []
            let available = node.capacity - (used[node.id] ?? .zero)
            guard spec.resources.cpus <= available.cpus, spec.resources.memory <= available.memory else { continue }
            let freeGPUs = Scheduler.usableGPUs(of: node, for: spec).map(\.index).filter { !taken.contains($0) }
                .sorted()
            guard let chosen = Self.pickGPUs(free: freeGPUs, count: spec.resources.gpus) else { continue }
            return (node.id, chosen)
        }
        return nil
    }

    func couldEverFit(_ spec: JobSpec) -> Bool {
        nodes.contains { $0.isSchedulable && Scheduler.matches(spec, node: $0) }
    }

    mutating func take(node: NodeID, gpus: [Int], resources: Resources) {
        usedGPUs[node, default: []].formUnion(gpus)
        used[node, default: .zero] = used[node, default: .zero] + resources
    }

    /// The first run of adjacent free indices long enough, else the lowest free indices.
    static func pickGPUs(free: [Int], count: Int) -> [Int]? {
        guard count > 0 else { return [] }
        guard free.count >= count else { return nil }
        var runStart = 0
        for position in 0..<free.count {
            if position > 0 && free[position] != free[position - 1] + 1 { runStart = position }
            if position - runStart + 1 == count { return Array(free[runStart...position]) }
        }
        return Array(free.prefix(count))
    }
}
