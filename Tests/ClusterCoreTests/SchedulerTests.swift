import ClusterCore
import ClusterCoreTesting
import Testing

enum Fixtures {
    static let h100 = "NVIDIA H100 80GB HBM3"
    static let a100 = "NVIDIA A100-SXM4-40GB"
    static let rtx = "NVIDIA GeForce RTX 4090"

    static func node(
        _ id: String,
        gpus: Int = 8,
        name: String = h100,
        unhealthy: Set<Int> = [],
        cpus: Int = 64,
        memory: Int64 = 512 << 30,
        labels: [String: String] = [:],
        status: NodeStatus = .ready,
        drained: Bool = false
    ) -> Node {
        Node(
            id: NodeID(id),
            hostname: id + ".cluster",
            gpus: (0..<gpus).map {
                GPU(index: $0, uuid: "GPU-\(id)-\($0)", name: name, healthy: !unhealthy.contains($0))
            },
            cpus: cpus,
            memory: memory,
            labels: labels,
            status: status,
            drained: drained,
            registeredAt: .zero,
            lastHeartbeat: .zero
        )
    }

    static func job(
        _ id: String,
        gpus: Int = 0,
        cpus: Int = 1,
        memory: Int64 = 0,
        gpuType: String? = nil,
        priority: Int = 0,
        labels: [String: String] = [:],
        dependsOn: [String] = [],
        submittedAt: Int64 = 0,
        user: String = "alice",
        queue: String = "default",
        timeLimit: Int? = nil
    ) -> Job {
        Job(
            id: JobID(id),
            spec: JobSpec(
                command: ["run"],
                queue: queue,
                resources: Resources(gpus: gpus, cpus: cpus, memory: memory),
                gpuType: gpuType,
                timeLimit: timeLimit,
                priority: priority,
                labels: labels,
                dependsOn: dependsOn.map(JobID.init)
            ),
            user: user,
            submittedAt: Timestamp(milliseconds: submittedAt)
        )
    }

    static func schedule(
        _ pending: [Job],
        _ nodes: [Node],
        held: [HeldResources] = [],
        states: [String: JobState] = [:]
    ) -> Schedule {
        Scheduler.computeSchedule(
            pending: pending,
            nodes: nodes,
            held: held,
            jobState: { states[$0.rawValue] },
            now: Timestamp(milliseconds: 1_000)
        )
    }
}

extension Schedule {
    func assignment(_ job: String) -> Assignment? { assignments.first { $0.job == JobID(job) } }
    func reason(_ job: String) -> PendingReason? { pending[JobID(job)] }
}

@Suite struct SchedulerTests {
    typealias F = Fixtures

    @Test func aJobFits() throws {
        let schedule = F.schedule([F.job("j1", gpus: 2, cpus: 8, memory: 32 << 30)], [F.node("n1")])
        let assignment = try #require(schedule.assignment("j1"))
        #expect(assignment.node == NodeID("n1"))
        #expect(assignment.gpuIndices == [0, 1])
        #expect(schedule.pending.isEmpty)
    }

    @Test func aCPUOnlyJobFitsOnANodeWithoutGPUs() throws {
        let schedule = F.schedule([F.job("j1", gpus: 0, cpus: 4)], [F.node("cpu-1", gpus: 0, cpus: 4)])
        #expect(try #require(schedule.assignment("j1")).gpuIndices == [])
    }

    @Test func noNodesMeansNoFeasibleNode() {
        let schedule = F.schedule([F.job("j1"), F.job("j2", gpus: 1)], [])
        #expect(schedule.assignments.isEmpty)
        #expect(schedule.reason("j1") == .noFeasibleNode)
        #expect(schedule.reason("j2") == .noFeasibleNode)
    }

    @Test func twoJobsInOnePassGetDifferentGPUs() throws {
        let jobs = [F.job("a", gpus: 3), F.job("b", gpus: 3, submittedAt: 1), F.job("c", gpus: 3, submittedAt: 2)]
        let schedule = F.schedule(jobs, [F.node("n1")])
        #expect(try #require(schedule.assignment("a")).gpuIndices == [0, 1, 2])
        #expect(try #require(schedule.assignment("b")).gpuIndices == [3, 4, 5])
        #expect(schedule.assignment("c") == nil)
        #expect(schedule.reason("c") == .resources)
    }

    @Test func heldGPUsAreNeverGivenAgain() throws {
        let held = [HeldResources(node: NodeID("n1"), gpuIndices: [0, 1, 2, 3, 4, 5], resources: Resources(gpus: 6))]
        let schedule = F.schedule(
            [F.job("a", gpus: 2), F.job("b", gpus: 1, submittedAt: 1)],
            [F.node("n1")],
            held: held
        )
        #expect(try #require(schedule.assignment("a")).gpuIndices == [6, 7])
        #expect(schedule.reason("b") == .resources)
    }

    @Test func gpusChosenAdjacentWhenPossible() throws {
        // Free: 0, 2, 3, 5, 6, 7.
        let held = [HeldResources(node: NodeID("n1"), gpuIndices: [1, 4], resources: Resources(gpus: 2))]
        func pick(_ count: Int) throws -> [Int] {
            try #require(F.schedule([F.job("j", gpus: count)], [F.node("n1")], held: held).assignment("j")).gpuIndices
        }
        #expect(try pick(1) == [0])
        #expect(try pick(2) == [2, 3])
        #expect(try pick(3) == [5, 6, 7])
        // No run of 4: the lowest free indices.
        #expect(try pick(4) == [0, 2, 3, 5])
        #expect(try pick(6) == [0, 2, 3, 5, 6, 7])
    }

    @Test func cpusAreRespected() throws {
        // GPU jobs, which pack (a job without GPUs would spread: PlacementSpreadTests).
        let held = [HeldResources(node: NodeID("a"), gpuIndices: [], resources: Resources(cpus: 60))]
        let nodes = [F.node("a", cpus: 64), F.node("b", cpus: 8)]
        let schedule = F.schedule(
            [
                F.job("fits-a", gpus: 1, cpus: 4), F.job("needs-b", gpus: 1, cpus: 8, submittedAt: 1),
                F.job("none", gpus: 1, cpus: 2, submittedAt: 2),
            ],
            nodes,
            held: held
        )
        #expect(schedule.assignment("fits-a")?.node == NodeID("a"))
        #expect(schedule.assignment("needs-b")?.node == NodeID("b"))
        #expect(schedule.reason("none") == .resources)
    }

    @Test func memoryIsRespected() throws {
        let held = [HeldResources(node: NodeID("a"), gpuIndices: [], resources: Resources(memory: 480 << 30))]
        let nodes = [F.node("a", memory: 512 << 30), F.node("b", memory: 64 << 30)]
        let schedule = F.schedule(
            [
                F.job("big", memory: 100 << 30), F.job("small", memory: 32 << 30, submittedAt: 1),
                F.job("exact", memory: 32 << 30, submittedAt: 2), F.job("huge", memory: 1 << 40, submittedAt: 3),
            ],
            nodes,
            held: held
        )
        #expect(schedule.reason("big") == .resources)
        #expect(schedule.assignment("small")?.node == NodeID("a"))
        #expect(schedule.assignment("exact")?.node == NodeID("b"))
        #expect(schedule.reason("huge") == .noFeasibleNode)
    }

    @Test(arguments: [
        ("drained", F.node("n0", drained: true)),
        ("lost", F.node("n0", status: .lost)),
        ("unhealthy", F.node("n0", status: .unhealthy)),
    ])
    func unschedulableNodesAreSkipped(_ what: String, _ bad: Node) throws {
        let schedule = F.schedule([F.job("j", gpus: 1)], [bad, F.node("n1")])
        #expect(schedule.assignment("j")?.node == NodeID("n1"), "a \(what) node must not get work")
        let alone = F.schedule([F.job("j", gpus: 1)], [bad])
        #expect(alone.assignments.isEmpty)
        #expect(alone.reason("j") != nil)
    }

    @Test(arguments: ["H100", "h100", "nvidia h100", "80GB", "hbm3"])
    func gpuTypeMatchesCaseInsensitivelyWithinTheName(_ type: String) throws {
        let nodes = [F.node("a-a100", name: F.a100), F.node("b-h100", name: F.h100)]
        let schedule = F.schedule([F.job("j", gpus: 2, gpuType: type)], nodes)
        #expect(schedule.assignment("j")?.node == NodeID("b-h100"))
    }

    @Test func gpuTypeNotPresentIsNoFeasibleNode() {
        let schedule = F.schedule(
            [F.job("j", gpus: 1, gpuType: "V100")],
            [F.node("a", name: F.a100), F.node("b", name: F.h100)]
        )
        #expect(schedule.assignments.isEmpty)
        #expect(schedule.reason("j") == .noFeasibleNode)
    }

    @Test func gpuTypeCountsOnlyMatchingGPUsOfAMixedNode() throws {
        var mixed = F.node("mixed", gpus: 0)
        mixed.gpus = [
            GPU(index: 0, uuid: "u0", name: F.a100), GPU(index: 1, uuid: "u1", name: F.h100),
            GPU(index: 2, uuid: "u2", name: F.a100), GPU(index: 3, uuid: "u3", name: F.h100),
        ]
        let schedule = F.schedule([F.job("j", gpus: 2, gpuType: "H100")], [mixed])
        #expect(try #require(schedule.assignment("j")).gpuIndices == [1, 3])
        let tooMany = F.schedule([F.job("j", gpus: 3, gpuType: "H100")], [mixed])
        #expect(tooMany.reason("j") == .noFeasibleNode)
    }

    @Test func labelsSelectNodes() throws {
        let nodes = [F.node("a", labels: ["zone": "eu"]), F.node("b", labels: ["zone": "us", "ib": "yes"])]
        let schedule = F.schedule(
            [
                F.job("us", gpus: 1, labels: ["zone": "us"]),
                F.job("both", gpus: 1, labels: ["zone": "us", "ib": "yes"], submittedAt: 1),
                F.job("eu-ib", gpus: 1, labels: ["zone": "eu", "ib": "yes"], submittedAt: 2),
                F.job("asia", gpus: 1, labels: ["zone": "asia"], submittedAt: 3),
            ],
            nodes
        )
        #expect(schedule.assignment("us")?.node == NodeID("b"))
        #expect(schedule.assignment("both")?.node == NodeID("b"))
        #expect(schedule.reason("eu-ib") == .noFeasibleNode)
        #expect(schedule.reason("asia") == .noFeasibleNode)
    }

    @Test func unhealthyGPUsAreNotUsed() throws {
        let node = F.node("n", gpus: 4, unhealthy: [0, 2])
        #expect(try #require(F.schedule([F.job("j", gpus: 2)], [node]).assignment("j")).gpuIndices == [1, 3])
        #expect(try #require(F.schedule([F.job("j", gpus: 1)], [node]).assignment("j")).gpuIndices == [1])
        #expect(F.schedule([F.job("j", gpus: 3)], [node]).reason("j") == .noFeasibleNode)
        let allBroken = F.node("n", gpus: 2, unhealthy: [0, 1])
        #expect(F.schedule([F.job("j", gpus: 1)], [allBroken]).reason("j") == .noFeasibleNode)
    }

    @Test func noFeasibleNodeVersusResources() {
        let nodes = [F.node("a", gpus: 8, cpus: 32), F.node("b", gpus: 4, cpus: 128)]
        let held = [
            HeldResources(node: NodeID("a"), gpuIndices: [0, 1, 2, 3], resources: Resources(gpus: 4, cpus: 4)),
            HeldResources(node: NodeID("b"), gpuIndices: [0], resources: Resources(gpus: 1, cpus: 4)),
        ]
        let schedule = F.schedule(
            [
                F.job("sixteen", gpus: 16), F.job("eight", gpus: 8, submittedAt: 1),
                F.job("cpus-200", cpus: 200, submittedAt: 2), F.job("gpu8-cpu64", gpus: 8, cpus: 64, submittedAt: 3),
                F.job("cpus-100", cpus: 100, submittedAt: 4), F.job("cpus-125", cpus: 125, submittedAt: 5),
            ],
            nodes,
            held: held
        )
        #expect(schedule.reason("sixteen") == .noFeasibleNode)
        #expect(schedule.reason("eight") == .resources)
        #expect(schedule.reason("cpus-200") == .noFeasibleNode)
        // 8 GPUs exist only on a (32 CPUs); 64 CPUs only on b (4 GPUs): no single node has both.
        #expect(schedule.reason("gpu8-cpu64") == .noFeasibleNode)
        #expect(schedule.assignment("cpus-100")?.node == NodeID("b"))
        #expect(schedule.reason("cpus-125") == .resources)
    }

    @Test func dependencies() {
        let states: [String: JobState] = ["done": .succeeded, "run": .running, "bad": .failed, "gone": .canceled]
        let jobs = [
            F.job("after-done", dependsOn: ["done"]),
            F.job("after-run", dependsOn: ["run"], submittedAt: 1),
            F.job("after-bad", dependsOn: ["bad"], submittedAt: 2),
            F.job("after-gone", dependsOn: ["gone"], submittedAt: 3),
            F.job("after-unknown", dependsOn: ["nosuchjob"], submittedAt: 4),
            F.job("after-mixed", dependsOn: ["done", "run"], submittedAt: 5),
            F.job("after-two", dependsOn: ["done", "done"], submittedAt: 6),
            F.job("impossible-after-run", gpus: 99, dependsOn: ["run"], submittedAt: 7),
        ]
        let schedule = F.schedule(jobs, [F.node("n")], states: states)
        #expect(schedule.assignment("after-done") != nil)
        #expect(schedule.assignment("after-two") != nil)
        for waiting in ["after-run", "after-bad", "after-gone", "after-unknown", "after-mixed", "impossible-after-run"]
        {
            #expect(schedule.reason(waiting) == .dependency, "\(waiting)")
            #expect(schedule.assignment(waiting) == nil)
        }
    }

    @Test func priorityFirstThenSubmitTimeThenID() {
        let node = [F.node("n", gpus: 8)]
        let early = F.job("early", gpus: 8, priority: 0, submittedAt: 1)
        let urgent = F.job("urgent", gpus: 8, priority: 5, submittedAt: 9)
        #expect(F.schedule([early, urgent], node).assignment("urgent") != nil)
        #expect(F.schedule([urgent, early], node).reason("early") == .resources)

        let first = F.job("zzz", gpus: 8, submittedAt: 1)
        let second = F.job("aaa", gpus: 8, submittedAt: 2)
        #expect(F.schedule([second, first], node).assignment("zzz") != nil)

        let tieB = F.job("b", gpus: 8, submittedAt: 5)
        let tieA = F.job("a", gpus: 8, submittedAt: 5)
        #expect(F.schedule([tieB, tieA], node).assignment("a") != nil)

        let negative = F.job("neg", gpus: 8, priority: -3, submittedAt: 0)
        #expect(F.schedule([negative, second], node).assignment("aaa") != nil)
    }

    @Test func comesFirstIsAStrictTotalOrder() {
        let jobs = [
            F.job("a", priority: 1, submittedAt: 5), F.job("b", priority: 1, submittedAt: 5),
            F.job("c", priority: 2, submittedAt: 9), F.job("d", priority: 0, submittedAt: 0),
        ]
        for x in jobs {
            #expect(!Scheduler.comesFirst(x, x))
            for y in jobs where x.id != y.id {
                #expect(Scheduler.comesFirst(x, y) != Scheduler.comesFirst(y, x))
            }
        }
        #expect(jobs.sorted(by: Scheduler.comesFirst).map(\.id.rawValue) == ["c", "a", "b", "d"])
    }

    @Test func firstFitIsByNodeIDWhateverTheInputOrder() {
        let nodes = [F.node("n3"), F.node("n1"), F.node("n2")]
        #expect(F.schedule([F.job("j", gpus: 1)], nodes).assignment("j")?.node == NodeID("n1"))
        #expect(F.schedule([F.job("j", gpus: 1)], nodes.reversed()).assignment("j")?.node == NodeID("n1"))
    }

    @Test func matchesChecksStaticRequirementsOnly() {
        let node = F.node("n", gpus: 4, cpus: 16, memory: 64 << 30, labels: ["a": "b"], drained: true)
        #expect(Scheduler.matches(F.job("j", gpus: 4, cpus: 16, memory: 64 << 30, labels: ["a": "b"]).spec, node: node))
        #expect(!Scheduler.matches(F.job("j", gpus: 5).spec, node: node))
        #expect(!Scheduler.matches(F.job("j", cpus: 17).spec, node: node))
        #expect(!Scheduler.matches(F.job("j", memory: (64 << 30) + 1).spec, node: node))
        #expect(!Scheduler.matches(F.job("j", labels: ["a": "c"]).spec, node: node))
        #expect(!Scheduler.matches(F.job("j", gpus: 1, gpuType: "A100").spec, node: node))
    }

    // MARK: Property test

    struct Scenario {
        var nodes: [Node]
        var held: [HeldResources]
        var pending: [Job]
        var states: [String: JobState]
        var policy: SchedulingPolicy = .standard
        var usage = FairShareUsage()
        var now = Timestamp(milliseconds: 1_000)

        var snapshot: ClusterSnapshot {
            var jobStates: [JobID: JobState] = [:]
            for (id, state) in states { jobStates[JobID(id)] = state }
            return ClusterSnapshot(
                pending: pending,
                nodes: nodes,
                held: held,
                jobStates: jobStates,
                usage: usage,
                now: now
            )
        }
    }

    static let gpuNames = [Fixtures.h100, Fixtures.a100, Fixtures.rtx]
    static let gpuTypes: [String?] = [nil, nil, nil, "H100", "a100", "4090", "V100", "nvidia"]

    static func randomScenario(_ rng: inout SplitMix64) -> Scenario {
        var nodes: [Node] = []
        var held: [HeldResources] = []
        let nodeCount = Int.random(in: 0...6, using: &rng)
        for n in 0..<nodeCount {
            let gpuCount = Int.random(in: 0...8, using: &rng)
            // Indices are unique but may have gaps (a GPU fell off the bus), and not always 0-based.
            var indices = Array(0..<12).shuffled(using: &rng).prefix(gpuCount).sorted()
            if Bool.random(using: &rng) { indices = Array(0..<gpuCount) }
            let name = gpuNames.randomElement(using: &rng)!
            let gpus = indices.map { index in
                GPU(
                    index: index,
                    uuid: "GPU-\(n)-\(index)",
                    name: name,
                    healthy: Int.random(in: 0..<100, using: &rng) >= 15
                )
            }
            let statusRoll = Int.random(in: 0..<10, using: &rng)
            var node = Node(
                id: NodeID("node-\(Int.random(in: 0..<1000, using: &rng))-\(n)"),
                hostname: "h\(n)",
                gpus: gpus,
                cpus: Int.random(in: 0...64, using: &rng),
                memory: Int64.random(in: 0...(512 << 30), using: &rng),
                labels: Bool.random(using: &rng) ? ["zone": ["a", "b"].randomElement(using: &rng)!] : [:],
                status: statusRoll < 8 ? .ready : (statusRoll == 8 ? .lost : .unhealthy),
                drained: Int.random(in: 0..<100, using: &rng) < 15,
                registeredAt: .zero,
                lastHeartbeat: .zero
            )
            if Int.random(in: 0..<10, using: &rng) == 0 { node.labels["ib"] = "yes" }
            nodes.append(node)

            // Consistent held allocations: disjoint GPU subsets, CPUs and memory within capacity.
            var freeGPUs = indices.shuffled(using: &rng)
            var freeCPUs = node.cpus
            var freeMemory = node.memory
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                let g = Int.random(in: 0...min(3, freeGPUs.count), using: &rng)
                let c = Int.random(in: 0...freeCPUs, using: &rng)
                let m = Int64.random(in: 0...freeMemory, using: &rng)
                let taken = Array(freeGPUs.prefix(g))
                freeGPUs.removeFirst(g)
                freeCPUs -= c
                freeMemory -= m
                held.append(
                    HeldResources(node: node.id, gpuIndices: taken, resources: Resources(gpus: g, cpus: c, memory: m))
                )
            }
        }

        var states: [String: JobState] = [:]
        for k in 0..<4 { states["dep\(k)"] = JobState.allCases.randomElement(using: &rng)! }
        var pending: [Job] = []
        for j in 0..<Int.random(in: 0...14, using: &rng) {
            let bigGPU = Int.random(in: 0..<10, using: &rng) == 0
            var labels: [String: String] = [:]
            if Int.random(in: 0..<5, using: &rng) == 0 { labels["zone"] = ["a", "b", "c"].randomElement(using: &rng)! }
            var dependsOn: [String] = []
            if Int.random(in: 0..<6, using: &rng) == 0 {
                dependsOn = (0..<Int.random(in: 1...2, using: &rng)).map { _ in
                    "dep\(Int.random(in: 0..<5, using: &rng))"
                }
            }
            pending.append(
                F.job(
                    "job\(j)",
                    gpus: bigGPU ? Int.random(in: 5...12, using: &rng) : Int.random(in: 0...4, using: &rng),
                    cpus: Int.random(in: 0...24, using: &rng),
                    memory: Int64.random(in: 0...(160 << 30), using: &rng),
                    gpuType: gpuTypes.randomElement(using: &rng)!,
                    priority: Int.random(in: -2...2, using: &rng),
                    labels: labels,
                    dependsOn: dependsOn,
                    submittedAt: Int64.random(in: 0...20, using: &rng)
                )
            )
        }
        return Scenario(nodes: nodes, held: held, pending: pending, states: states)
    }

    static func typeMatches(_ gpu: GPU, _ spec: JobSpec) -> Bool {
        guard let type = spec.gpuType else { return true }
        return gpu.name.lowercased().contains(type.lowercased())
    }

    /// Checks every invariant of one schedule; returns the failures as text.
    static func violations(_ s: Scenario, _ schedule: Schedule) -> [String] {
        var problems: [String] = []
        let nodesByID = Dictionary(s.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let jobsByID = Dictionary(uniqueKeysWithValues: s.pending.map { ($0.id, $0) })
        func selected(_ job: Job, _ node: Node) -> Bool {
            let selector = s.policy.queue(named: job.spec.queue).nodeSelector
            return job.spec.labels.allSatisfy({ node.labels[$0.key] == $0.value })
                && selector.allSatisfy({ node.labels[$0.key] == $0.value })
        }

        var usedGPUs: [NodeID: [Int]] = [:]
        var used: [NodeID: Resources] = [:]
        for h in s.held {
            usedGPUs[h.node, default: []] += h.gpuIndices
            used[h.node, default: .zero] = used[h.node, default: .zero] + h.resources
        }

        var seen = Set<JobID>()
        for a in schedule.assignments {
            guard let job = jobsByID[a.job] else {
                problems.append("assigned unknown job \(a.job)")
                continue
            }
            if !seen.insert(a.job).inserted { problems.append("\(a.job) assigned twice") }
            if schedule.pending[a.job] != nil { problems.append("\(a.job) both assigned and pending") }
            guard let node = nodesByID[a.node] else {
                problems.append("\(a.job) on unknown node \(a.node)")
                continue
            }
            if !node.isSchedulable { problems.append("\(a.job) on unschedulable node \(a.node)") }
            if !selected(job, node) {
                problems.append("\(a.job) on \(a.node) with the wrong labels")
            }
            if !job.spec.dependsOn.allSatisfy({ s.states[$0.rawValue] == .succeeded }) {
                problems.append("\(a.job) placed before its dependencies succeeded")
            }
            if a.gpuIndices.count != job.spec.resources.gpus {
                problems.append("\(a.job) got \(a.gpuIndices.count) GPUs, asked \(job.spec.resources.gpus)")
            }
            for index in a.gpuIndices {
                guard let gpu = node.gpus.first(where: { $0.index == index }) else {
                    problems.append("\(a.job) got GPU \(index) that \(a.node) does not have")
                    continue
                }
                if !gpu.healthy { problems.append("\(a.job) got unhealthy GPU \(index) on \(a.node)") }
                if !typeMatches(gpu, job.spec) {
                    problems.append("\(a.job) wanted \(job.spec.gpuType ?? "") but got \(gpu.name)")
                }
            }
            usedGPUs[a.node, default: []] += a.gpuIndices
            used[a.node, default: .zero] = used[a.node, default: .zero] + job.spec.resources
        }

        for (nodeID, indices) in usedGPUs where Set(indices).count != indices.count {
            problems.append("a GPU of \(nodeID) given twice: \(indices.sorted())")
        }
        for (nodeID, total) in used {
            guard let node = nodesByID[nodeID] else { continue }
            if total.cpus > node.cpus {
                problems.append("\(nodeID) over-committed on CPUs: \(total.cpus) > \(node.cpus)")
            }
            if total.memory > node.memory { problems.append("\(nodeID) over-committed on memory") }
        }

        // Per-user queue limits: no new GPUs for a user past the queue's limit.
        var runningGPUs: [String: Int] = [:]
        var addedGPUs: [String: Int] = [:]
        for h in s.held { if let user = h.user { runningGPUs["\(user)/\(h.queue)", default: 0] += h.resources.gpus } }
        for a in schedule.assignments {
            guard let job = jobsByID[a.job] else { continue }
            addedGPUs["\(job.user)/\(job.spec.queue)", default: 0] += job.spec.resources.gpus
        }
        for (key, added) in addedGPUs where added > 0 {
            let queue = String(key.split(separator: "/").last!)
            if let limit = s.policy.queue(named: queue).maxRunningGPUsPerUser,
                runningGPUs[key, default: 0] + added > limit
            {
                problems.append("\(key) holds \(runningGPUs[key, default: 0] + added) GPUs, over the limit \(limit)")
            }
        }

        // What is free at the end of the pass, on a node, for a job.
        func fitsAtEnd(_ job: Job, _ node: Node) -> Bool {
            guard node.isSchedulable, selected(job, node) else { return false }
            let taken = Set(usedGPUs[node.id] ?? [])
            let freeGPUs = node.gpus.filter { $0.healthy && typeMatches($0, job.spec) && !taken.contains($0.index) }
            let usedHere = used[node.id] ?? .zero
            return freeGPUs.count >= job.spec.resources.gpus && node.cpus - usedHere.cpus >= job.spec.resources.cpus
                && node.memory - usedHere.memory >= job.spec.resources.memory
        }

        for job in s.pending where !seen.contains(job.id) {
            guard let reason = schedule.pending[job.id] else {
                problems.append("\(job.id) neither assigned nor given a reason")
                continue
            }
            let dependenciesMet = job.spec.dependsOn.allSatisfy { s.states[$0.rawValue] == .succeeded }
            if dependenciesMet == (reason == .dependency) {
                problems.append("\(job.id) has reason \(reason) but dependencies met: \(dependenciesMet)")
            }
            let failed = job.spec.dependsOn.first { [.failed, .canceled, .lost].contains(s.states[$0.rawValue]) }
            if (failed != nil) != (schedule.failedDependencies[job.id] != nil) {
                problems.append("\(job.id) failed dependency \(String(describing: failed)) not reported right")
            }
            // NoFeasibleNode means no ready, undrained node could run the job even when empty.
            let staticMatch = s.nodes.contains {
                $0.isSchedulable && Scheduler.matches(job.spec, node: $0) && selected(job, $0)
            }
            if reason != .dependency && !staticMatch && reason != .noFeasibleNode {
                problems.append("\(job.id) is \(reason) but no node could ever run it")
            }
            switch reason {
            case .noFeasibleNode:
                if staticMatch { problems.append("\(job.id) is NoFeasibleNode but a node matches it") }
            case .resources:
                if !staticMatch { problems.append("\(job.id) is Resources but no node could ever run it") }
                // It could not have fit in what remained at the end of the pass.
                for node in s.nodes where fitsAtEnd(job, node) {
                    problems.append("\(job.id) left pending (Resources) but fits on \(node.id) at the end")
                }
            case .priority:
                guard let reservation = schedule.reservation else {
                    problems.append("\(job.id) is Priority without a reservation")
                    break
                }
                for node in s.nodes where node.id != reservation.node && fitsAtEnd(job, node) {
                    problems.append("\(job.id) held back (Priority) but fits on \(node.id) at the end")
                }
            case .queueLimit:
                let key = "\(job.user)/\(job.spec.queue)"
                let limit = s.policy.queue(named: job.spec.queue).maxRunningGPUsPerUser
                let total = runningGPUs[key, default: 0] + addedGPUs[key, default: 0] + job.spec.resources.gpus
                if limit == nil || total <= limit! {
                    problems.append("\(job.id) is QueueLimit but \(total) GPUs are within \(String(describing: limit))")
                }
            case .dependency:
                break
            default:
                problems.append("\(job.id) has unexpected reason \(reason)")
            }
        }
        for id in schedule.pending.keys where jobsByID[id] == nil { problems.append("reason for unknown job \(id)") }
        return problems
    }

    @Test(arguments: [UInt64(1), 42, 0xC0FF_EE, 2_026_1122])
    func propertyHoldsForRandomClusters(_ seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var assigned = 0
        var reasons: [PendingReason: Int] = [:]
        for round in 0..<600 {
            let scenario = Self.randomScenario(&rng)
            let schedule = F.schedule(scenario.pending, scenario.nodes, held: scenario.held, states: scenario.states)
            let problems = Self.violations(scenario, schedule)
            #expect(problems.isEmpty, "seed \(seed) round \(round): \(problems.prefix(5))")
            if !problems.isEmpty { return }
            // The plan does not depend on the order of the inputs.
            let shuffled = F.schedule(
                scenario.pending.shuffled(using: &rng),
                scenario.nodes.shuffled(using: &rng),
                held: scenario.held.shuffled(using: &rng),
                states: scenario.states
            )
            #expect(shuffled == schedule, "seed \(seed) round \(round): input order changed the plan")
            assigned += schedule.assignments.count
            for reason in schedule.pending.values { reasons[reason, default: 0] += 1 }
        }
        // The generator exercises every branch, or the property proves little.
        #expect(assigned > 300)
        #expect((reasons[.resources] ?? 0) > 50)
        #expect((reasons[.noFeasibleNode] ?? 0) > 50)
        #expect((reasons[.dependency] ?? 0) > 50)
    }

    /// The checker itself must catch a bad plan, or the property test could pass vacuously.
    @Test func theCheckerCatchesBadPlans() {
        let node = F.node("n", gpus: 2, unhealthy: [1], cpus: 4)
        let pending = [F.job("a", gpus: 1, cpus: 4), F.job("b")]
        // A real plan made without knowing that GPU 0 and 2 CPUs are held...
        let plan = F.schedule(pending, [node])
        #expect(plan.assignment("a")?.gpuIndices == [0])
        #expect(plan.reason("b") == .resources)
        #expect(Self.violations(Scenario(nodes: [node], held: [], pending: pending, states: [:]), plan).isEmpty)
        // ...checked against a cluster where they are.
        let held = [HeldResources(node: NodeID("n"), gpuIndices: [0], resources: Resources(gpus: 1, cpus: 2))]
        let scenario = Scenario(nodes: [node], held: held, pending: pending, states: [:])
        let problems = Self.violations(scenario, plan)
        #expect(problems.contains { $0.contains("given twice") })
        #expect(problems.contains { $0.contains("over-committed on CPUs") })
        let forgetful = Schedule(assignments: plan.assignments, pending: [:])
        #expect(Self.violations(scenario, forgetful).contains { $0.contains("neither assigned nor given a reason") })
        let lazy = Schedule(assignments: [], pending: [JobID("a"): .resources, JobID("b"): .resources])
        let lazyProblems = Self.violations(Scenario(nodes: [node], held: [], pending: pending, states: [:]), lazy)
        #expect(lazyProblems.contains { $0.contains("b left pending (Resources) but fits") })
        let wrongReason = Schedule(assignments: [], pending: [JobID("a"): .noFeasibleNode, JobID("b"): .dependency])
        let reasonProblems = Self.violations(
            Scenario(nodes: [node], held: [], pending: pending, states: [:]),
            wrongReason
        )
        #expect(reasonProblems.contains { $0.contains("NoFeasibleNode but a node matches") })
        #expect(reasonProblems.contains { $0.contains("but dependencies met: true") })
    }
}
