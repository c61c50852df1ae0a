import ClusterCore
import ClusterCoreTesting
import Testing

/// Gang placement and array limits in the pure scheduler: whole or nothing, no GPU twice, topology groups,
/// and a waiting gang's reservation that an endless stream of small jobs cannot delay.
@Suite struct GangSchedulerTests {
    typealias F = Fixtures
    static let now = Timestamp(milliseconds: 1_000)

    static func gang(
        _ id: String,
        nodes: Int,
        gpus: Int,
        cpus: Int = 1,
        submittedAt: Int64 = 0,
        queue: String = "default"
    )
        -> Job
    {
        var job = F.job(id, gpus: gpus, cpus: cpus, submittedAt: submittedAt, queue: queue)
        job.spec.nodes = nodes
        return job
    }

    static func plan(
        _ pending: [Job],
        _ nodes: [Node],
        held: [HeldResources] = [],
        policy: SchedulingPolicy = .standard
    )
        -> Schedule
    {
        Scheduler.plan(ClusterSnapshot(pending: pending, nodes: nodes, held: held, now: now), policy: policy)
    }

    @Test func aGangTakesDistinctNodesWholeOrWaitsHoldingNothing() throws {
        let nodes = [F.node("a", gpus: 2), F.node("b", gpus: 2), F.node("c", gpus: 2)]
        let placed = Self.plan([Self.gang("g", nodes: 2, gpus: 2)], nodes)
        let gang = try #require(placed.gangAssignments.first)
        #expect(gang.ranks.count == 2)
        #expect(Set(gang.ranks.map(\.node)).count == 2)
        #expect(gang.ranks.allSatisfy { $0.gpuIndices == [0, 1] })
        // One node busy, one half busy: only one node can take a rank; the gang waits and a small job still
        // gets the half-free node.
        let held = [
            HeldResources(node: NodeID("a"), gpuIndices: [0, 1], resources: Resources(gpus: 2)),
            HeldResources(node: NodeID("b"), gpuIndices: [0], resources: Resources(gpus: 1)),
        ]
        let waiting = Self.plan(
            [Self.gang("g", nodes: 2, gpus: 2), F.job("small", gpus: 1, submittedAt: 1)],
            nodes,
            held: held
        )
        #expect(waiting.gangAssignments.isEmpty)
        #expect(waiting.pending[JobID("g")] == .resources)
        #expect(waiting.reservation?.job == JobID("g"))
        #expect(waiting.reservation?.nodes.count == 2)
    }

    @Test func aGangLargerThanTheClusterIsNoFeasibleNodeAndExplainSaysWhy() {
        let nodes = [F.node("a", gpus: 2), F.node("b", gpus: 2), F.node("c", gpus: 2)]
        let job = Self.gang("big", nodes: 4, gpus: 2)
        let schedule = Self.plan([job], nodes)
        #expect(schedule.pending[JobID("big")] == .noFeasibleNode)
        let snapshot = ClusterSnapshot(pending: [job], nodes: nodes, now: Self.now)
        let lines = Scheduler.explain(job: job, snapshot: snapshot, policy: .standard)
        let summary = Scheduler.gangSummary(job: job, lines: lines, snapshot: snapshot, policy: .standard)
        #expect(summary?.contains("it needs 4 nodes and the cluster has 3") == true)
    }

    @Test func ranksKeepToOneTopologyGroupWhenTheQueueAsksAndOneHoldsThem() throws {
        let nodes = [
            F.node("a1", gpus: 2, labels: ["rack": "a"]), F.node("b1", gpus: 2, labels: ["rack": "b"]),
            F.node("b2", gpus: 2, labels: ["rack": "b"]), F.node("c1", gpus: 2, labels: ["rack": "c"]),
        ]
        let policy = SchedulingPolicy(queues: [QueueConfig(name: "default", topologyLabel: "rack")])
        let schedule = Self.plan([Self.gang("g", nodes: 2, gpus: 2)], nodes, policy: policy)
        let gang = try #require(schedule.gangAssignments.first)
        #expect(Set(gang.ranks.map(\.node)) == [NodeID("b1"), NodeID("b2")])
        #expect(gang.topology == "rack=b")
        // Three ranks fit no rack: any three nodes, and no topology claimed.
        let spread = Self.plan([Self.gang("g", nodes: 3, gpus: 2)], nodes, policy: policy)
        #expect(spread.gangAssignments.first?.ranks.count == 3)
        #expect(spread.gangAssignments.first?.topology == nil)
    }

    @Test func anArrayRunsAtMostItsLimitAtOnce() {
        let nodes = [F.node("a", gpus: 8)]
        var tasks: [Job] = []
        for index in 0..<6 {
            var task = F.job("arr_\(index)", gpus: 1)
            task.array = ArrayTask(array: JobID("arr"), index: index, count: 6, limit: 2)
            tasks.append(task)
        }
        let running = [JobID("arr"): 1]
        let snapshot = ClusterSnapshot(pending: tasks, nodes: nodes, runningArrayTasks: running, now: Self.now)
        let schedule = Scheduler.plan(snapshot, policy: .standard)
        // One runs already: one more starts, the lowest index first; the rest wait with ArrayLimit.
        #expect(schedule.assignments.map(\.job) == [JobID("arr_0")])
        #expect((1..<6).allSatisfy { schedule.pending[JobID("arr_\($0)")] == .arrayLimit })
    }

    /// Random clusters with gangs among the jobs: every gang is placed whole on distinct nodes or not at all,
    /// and no GPU, CPU or byte of memory is given twice, counting ranks with one-node jobs.
    @Test(arguments: [UInt64(3), 17, 0xFEED, 4242])
    func gangsArePlacedWholeAndNothingIsGivenTwice(_ seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var gangsPlaced = 0
        var gangsWaiting = 0
        for round in 0..<800 {
            var s = SchedulerTests.randomScenario(&rng)
            for i in s.pending.indices where Int.random(in: 0..<3, using: &rng) == 0 {
                s.pending[i].spec.nodes = Int.random(in: 2...3, using: &rng)
                s.pending[i].spec.resources.gpus = min(s.pending[i].spec.resources.gpus, 2)
            }
            let schedule = Scheduler.plan(s.snapshot, policy: s.policy)
            let problems = Self.gangViolations(s, schedule)
            #expect(problems.isEmpty, "seed \(seed) round \(round): \(problems.prefix(5))")
            if !problems.isEmpty { return }
            gangsPlaced += schedule.gangAssignments.count
            gangsWaiting += s.pending.filter { $0.spec.isGang && schedule.pending[$0.id] != nil }.count
        }
        #expect(gangsPlaced > 10)
        #expect(gangsWaiting > 30)
    }

    static func gangViolations(_ s: SchedulerTests.Scenario, _ schedule: Schedule) -> [String] {
        var problems: [String] = []
        let nodes = Dictionary(s.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let jobs = Dictionary(uniqueKeysWithValues: s.pending.map { ($0.id, $0) })
        var gpus: [NodeID: [Int]] = [:]
        var used: [NodeID: Resources] = [:]
        for held in s.held {
            gpus[held.node, default: []] += held.gpuIndices
            used[held.node, default: .zero] = used[held.node, default: .zero] + held.resources
        }
        var placements: [(JobID, Placement)] = schedule.assignments.map {
            ($0.job, Placement(node: $0.node, gpuIndices: $0.gpuIndices))
        }
        for gang in schedule.gangAssignments {
            guard let job = jobs[gang.job] else {
                problems.append("unknown gang \(gang.job)")
                continue
            }
            if gang.ranks.count != job.spec.nodes {
                problems.append("\(gang.job): \(gang.ranks.count) of \(job.spec.nodes) ranks")
            }
            if Set(gang.ranks.map(\.node)).count != gang.ranks.count {
                problems.append("\(gang.job): two ranks on one node")
            }
            if schedule.pending[gang.job] != nil { problems.append("\(gang.job) both placed and pending") }
            placements += gang.ranks.map { (gang.job, $0) }
        }
        for assignment in schedule.assignments where jobs[assignment.job]?.spec.isGang == true {
            problems.append("gang \(assignment.job) placed as a one-node job")
        }
        for (id, placement) in placements {
            guard let job = jobs[id], let node = nodes[placement.node] else { continue }
            if !node.isSchedulable { problems.append("\(id) on unschedulable \(node.id)") }
            if placement.gpuIndices.count != job.spec.resources.gpus {
                problems.append("\(id): wrong GPU count on \(node.id)")
            }
            for index in placement.gpuIndices {
                guard let gpu = node.gpus.first(where: { $0.index == index }), gpu.healthy,
                    SchedulerTests.typeMatches(gpu, job.spec)
                else {
                    problems.append("\(id): GPU \(index) of \(node.id) is missing, unhealthy or of another type")
                    continue
                }
            }
            gpus[node.id, default: []] += placement.gpuIndices
            used[node.id, default: .zero] = used[node.id, default: .zero] + job.spec.resources
        }
        for (node, indices) in gpus where Set(indices).count != indices.count {
            problems.append("a GPU of \(node) given twice: \(indices.sorted())")
        }
        for (id, total) in used {
            guard let node = nodes[id] else { continue }
            if total.cpus > node.cpus || total.memory > node.memory { problems.append("\(id) over-committed") }
        }
        for job in s.pending where job.spec.isGang {
            let placed = schedule.gangAssignments.contains { $0.job == job.id }
            if !placed && schedule.pending[job.id] == nil { problems.append("gang \(job.id) has no reason") }
        }
        return problems
    }
}
