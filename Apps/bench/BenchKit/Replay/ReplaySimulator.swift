public import ClusterCore
import ClusterCoreTesting

/// A trace replayed through the real scheduler (`Scheduler.plan`, the controller's own pure function) on a
/// virtual clock: at every arrival and completion one pass runs on a snapshot of the simulated cluster, and its
/// assignments start at once and end after their true duration. Time limits are what the scheduler knows
/// (backfill plans with them); durations are what really happens.
public struct ReplaySimulator {
    public enum LimitRule: String, Sendable {
        /// The time limit is the true duration (the baselines' setting).
        case exact
        /// Twice the duration, rounded up to the hour: what users who over-estimate write.
        case doubledHour = "2x-hour"

        func limit(of duration: Double) -> Int {
            let seconds = max(1, Int(duration.rounded(.up)))
            switch self {
            case .exact: return seconds
            case .doubledHour: return ((2 * seconds + 3599) / 3600) * 3600
            }
        }
    }

    public struct Options: Sendable {
        public var cluster = ReplayCluster()
        public var limits = LimitRule.exact
        public var policy = SchedulingPolicy.standard
        /// Users assigned to the trace's jobs (it has none) by a seeded Zipf law.
        public var users = 20
        public var seed: UInt64 = 7
        public init() {}
    }

    /// What happened to each job (by its index in the trace).
    public struct Outcome: Sendable {
        public var starts: [Double?]
        public var users: [Int]
        public var passes = 0
        /// Wall time of the replay's scheduling passes, seconds.
        public var schedulingSeconds = 0.0
        /// Assignments that placed a GPU, CPU or byte twice on a node (must be 0).
        public var overcommits = 0
        /// Jobs stopped for a higher tier and run again from the start, and the GPU-seconds they had run.
        public var preemptions = 0
        public var preemptedGPUSeconds = 0.0
    }

    let jobs: [TraceJob]
    let options: Options
    /// Every job begins at this virtual moment plus its submit time.
    static let epoch = Timestamp(milliseconds: 1_700_000_000_000)

    public init(jobs: [TraceJob], options: Options) {
        self.jobs = jobs
        self.options = options
    }

    struct Running {
        var held: HeldResources
        var end: Timestamp
        var index: Int
    }

    public func run() -> Outcome {
        let nodes = (0..<options.cluster.nodes).map { number in
            Node(
                id: NodeID("n" + fixedWidth(number, 3)),
                hostname: "n\(number)",
                gpus: (0..<options.cluster.gpusPerNode).map {
                    GPU(index: $0, uuid: "GPU-\(number)-\($0)", name: "GPU")
                },
                cpus: options.cluster.cpuMilliPerNode,
                memory: Int64(options.cluster.memoryMiBPerNode) << 20,
                registeredAt: Self.epoch,
                lastHeartbeat: Self.epoch
            )
        }
        let users = Self.zipfUsers(count: jobs.count, users: options.users, seed: options.seed)
        var outcome = Outcome(starts: Array(repeating: nil, count: jobs.count), users: users)
        var pending: [JobID: Job] = [:]
        var indexOf: [JobID: Int] = [:]
        var running: [JobID: Running] = [:]
        var ends = MinHeap<Timestamp, JobID>()
        var usage = FairShareUsage()
        var next = 0
        let clock = ContinuousClock()
        while next < jobs.count || !ends.isEmpty {
            let arrival = next < jobs.count ? moment(jobs[next].submit) : nil
            let now = [arrival, ends.peek?.key].compactMap { $0 }.min()!
            while let top = ends.peek, top.key <= now {
                _ = ends.pop()
                // A preempted job's old end is stale: it runs (if at all) with a new one.
                guard let current = running[top.value], current.end == top.key else { continue }
                let done = running.removeValue(forKey: top.value)!
                let seconds = Double((done.end - done.held.allocatedAt!).milliseconds) / 1000
                usage.record(
                    user: done.held.user ?? "",
                    gpuSeconds: Double(done.held.resources.gpus) * seconds,
                    at: now
                )
            }
            while next < jobs.count, moment(jobs[next].submit) <= now {
                let job = makeJob(next, user: users[next])
                pending[job.id] = job
                indexOf[job.id] = next
                next += 1
            }
            // Passes at this moment until one preempts nothing (victims stop at once here: no kill grace).
            for _ in 0..<8 where !pending.isEmpty {
                let snapshot = ClusterSnapshot(
                    pending: Array(pending.values),
                    nodes: nodes,
                    held: running.values.map(\.held),
                    usage: usage,
                    now: now
                )
                let started = clock.now
                let schedule = Scheduler.plan(snapshot, policy: options.policy)
                outcome.schedulingSeconds += (clock.now - started).seconds
                outcome.passes += 1
                start(
                    schedule.assignments,
                    now: now,
                    nodes: nodes,
                    pending: &pending,
                    running: &running,
                    ends: &ends,
                    outcome: &outcome,
                    indexOf: indexOf
                )
                guard !schedule.preemptions.isEmpty else { break }
                for victim in schedule.preemptions.flatMap(\.victims) {
                    guard let stopped = running.removeValue(forKey: victim) else { continue }
                    let ran = Double((now - stopped.held.allocatedAt!).milliseconds) / 1000
                    outcome.preemptions += 1
                    outcome.preemptedGPUSeconds += ran * Double(stopped.held.resources.gpus)
                    outcome.starts[stopped.index] = nil
                    let job = makeJob(stopped.index, user: users[stopped.index])
                    pending[job.id] = job
                }
            }
        }
        return outcome
    }

    /// Starts the pass's assignments: held until their time limit as far as the scheduler knows, ended after
    /// their true duration.
    func start(
        _ assignments: [Schedule.Assignment],
        now: Timestamp,
        nodes: [Node],
        pending: inout [JobID: Job],
        running: inout [JobID: Running],
        ends: inout MinHeap<Timestamp, JobID>,
        outcome: inout Outcome,
        indexOf: [JobID: Int]
    ) {
        for assignment in assignments {
            guard let job = pending.removeValue(forKey: assignment.job), let index = indexOf[assignment.job] else {
                continue
            }
            let limit = job.spec.timeLimit ?? options.policy.defaultTimeLimit
            var held = HeldResources(
                node: assignment.node,
                gpuIndices: assignment.gpuIndices,
                resources: job.spec.resources,
                job: job.id,
                user: job.user,
                queue: job.spec.queue,
                allocatedAt: now,
                expectedEnd: now + .seconds(limit)
            )
            held.startedAt = now
            if Self.overcommits(held, running: running.values, nodes: nodes) { outcome.overcommits += 1 }
            let end = now + .milliseconds(Int64((jobs[index].duration * 1000).rounded()))
            running[job.id] = Running(held: held, end: end, index: index)
            ends.push(end, job.id)
            outcome.starts[index] = Double((now - Self.epoch).milliseconds) / 1000
        }
    }

    func moment(_ seconds: Double) -> Timestamp { Self.epoch + .milliseconds(Int64((seconds * 1000).rounded())) }

    func makeJob(_ index: Int, user: Int) -> Job {
        let trace = jobs[index]
        let spec = JobSpec(
            name: trace.id,
            command: ["replay"],
            resources: Resources(gpus: trace.gpus, cpus: trace.cpuMilli, memory: Int64(trace.memoryMiB) << 20),
            timeLimit: options.limits.limit(of: trace.duration)
        )
        return Job(
            id: JobID("j" + fixedWidth(index, 6)),
            spec: spec,
            user: "u\(user)",
            submittedAt: moment(trace.submit)
        )
    }

    /// Whether the new allocation takes a GPU already taken on its node, or more CPUs or memory than it has.
    static func overcommits(_ new: HeldResources, running: some Sequence<Running>, nodes: [Node]) -> Bool {
        guard let node = nodes.first(where: { $0.id == new.node }) else { return true }
        var gpus = Set(new.gpuIndices)
        var cpus = new.resources.cpus
        var memory = new.resources.memory
        for other in running where other.held.node == new.node {
            if !gpus.isDisjoint(with: other.held.gpuIndices) { return true }
            gpus.formUnion(other.held.gpuIndices)
            cpus += other.held.resources.cpus
            memory += other.held.resources.memory
        }
        return cpus > node.cpus || memory > node.memory || gpus.count > node.gpus.count
    }

    /// User numbers 1...users drawn with probability proportional to 1/k (Zipf, s = 1), seeded.
    static func zipfUsers(count: Int, users: Int, seed: UInt64) -> [Int] {
        let weights = (1...max(1, users)).map { 1.0 / Double($0) }
        let total = weights.reduce(0, +)
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            var draw = Double.random(in: 0..<total, using: &generator)
            for (position, weight) in weights.enumerated() {
                if draw < weight { return position + 1 }
                draw -= weight
            }
            return users
        }
    }
}

/// A binary min-heap of keyed values.
struct MinHeap<Key: Comparable, Value> {
    private var items: [(key: Key, value: Value)] = []
    var isEmpty: Bool { items.isEmpty }
    var peek: (key: Key, value: Value)? { items.first }

    mutating func push(_ key: Key, _ value: Value) {
        items.append((key, value))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].key < items[parent].key else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (key: Key, value: Value)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let (left, right) = (2 * parent + 1, 2 * parent + 2)
            var smallest = parent
            if left < items.count && items[left].key < items[smallest].key { smallest = left }
            if right < items.count && items[right].key < items[smallest].key { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

/// A number with leading zeros to `width` digits, so ids sort as numbers.
func fixedWidth(_ number: Int, _ width: Int) -> String {
    let digits = String(number)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// A number with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    let fraction = String(scaled % Int64(scale))
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard digits > 0 else { return "\(sign)\(whole)" }
    return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
}
