import ClusterCore
import ClusterCoreTesting
import Testing

/// Preemption in the pure scheduler (issue 15): examples, then properties over random clusters. Never within
/// a tier or of a queue that is not preemptible, never a job that ran less than the minimum, never a stop that
/// leaves the preemptor unable to fit, never a victim twice, and what it frees is not handed to a job later in
/// the same pass.
@Suite struct PreemptionTests {
    typealias F = Fixtures
    static let now = Timestamp(milliseconds: 10_000_000)

    /// `low` (preemptible) < `mid` (not preemptible) < `high`; a 5-minute minimum run time.
    static let policy: SchedulingPolicy = {
        var policy = SchedulingPolicy(queues: [
            QueueConfig(name: "low", priority: 0, preemptible: true),
            QueueConfig(name: "mid", priority: 5),
            QueueConfig(name: "high", priority: 10),
        ])
        policy.preemptionMinRuntime = 300
        return policy
    }()

    static func running(
        _ job: String,
        on node: String,
        gpus: [Int],
        queue: String,
        ranFor seconds: Int64 = 3600,
        stopping: Bool = false
    ) -> HeldResources {
        var held = HeldResources(
            node: NodeID(node),
            gpuIndices: gpus,
            resources: Resources(gpus: gpus.count),
            job: JobID(job),
            user: "bob",
            queue: queue,
            allocatedAt: now + .seconds(-seconds),
            expectedEnd: now + .seconds(3600)
        )
        held.startedAt = now + .seconds(-seconds)
        held.stopping = stopping
        return held
    }

    static func plan(_ pending: [Job], _ nodes: [Node], _ held: [HeldResources]) -> Schedule {
        Scheduler.plan(ClusterSnapshot(pending: pending, nodes: nodes, held: held, now: now), policy: policy)
    }

    @Test func theFewestCheapestLowerTierJobsArePreempted() throws {
        let nodes = [F.node("a", gpus: 8), F.node("b", gpus: 8)]
        // a: two 4-GPU low jobs, one young-ish (1 h) and one old (5 h); b: eight 1-GPU low jobs.
        var held = [
            Self.running("a1", on: "a", gpus: [0, 1, 2, 3], queue: "low", ranFor: 3600),
            Self.running("a2", on: "a", gpus: [4, 5, 6, 7], queue: "low", ranFor: 5 * 3600),
        ]
        for gpu in 0..<8 { held.append(Self.running("b\(gpu)", on: "b", gpus: [gpu], queue: "low", ranFor: 600)) }
        let urgent = F.job("urgent", gpus: 4, queue: "high")
        let schedule = Self.plan([urgent], nodes, held)
        let preemption = try #require(schedule.preemptions.first)
        // One victim on a (the cheaper of the two) beats four on b.
        #expect(preemption.job == JobID("urgent") && preemption.victims == [JobID("a1")])
        #expect(preemption.node == NodeID("a"))
        #expect(schedule.pending[JobID("urgent")] == .preempting)
        #expect(schedule.assignments.isEmpty)
    }

    @Test func aGangPreemptsForAllItsRanksAtOnce() throws {
        let nodes = [F.node("a", gpus: 4), F.node("b", gpus: 4), F.node("c", gpus: 4)]
        let held = [
            Self.running("la", on: "a", gpus: [0, 1, 2, 3], queue: "low", ranFor: 600),
            Self.running("lb", on: "b", gpus: [0, 1], queue: "low", ranFor: 7200),
            Self.running("mc", on: "c", gpus: [0, 1, 2, 3], queue: "mid"),
        ]
        var gang = F.job("gang", gpus: 4, queue: "high")
        gang.spec.nodes = 2
        let schedule = Self.plan([gang, F.job("later", gpus: 2, submittedAt: 9, queue: "low")], nodes, held)
        let preemption = try #require(schedule.preemptions.first)
        // c is a mid job's (not preemptible): a and b, one victim each.
        #expect(Set(preemption.victims) == [JobID("la"), JobID("lb")])
        #expect(schedule.pending[JobID("gang")] == .preempting)
        // b's two free GPUs are kept for the gang: the later low job does not get them.
        #expect(schedule.assignments.isEmpty)
        // Three ranks cannot be made room for (c is not preemptible): no preemption at all.
        gang.spec.nodes = 3
        #expect(Self.plan([gang], nodes, held).preemptions.isEmpty)
    }

    /// What a preemption frees is its preemptor's: another high-tier job does not count it free (it would take
    /// the room and send the first preemptor after new victims).
    @Test func theRoomAPreemptionMakesIsItsPreemptorsOnly() throws {
        let nodes = [F.node("a", gpus: 4)]
        var leaving = Self.running("victim", on: "a", gpus: [0, 1, 2, 3], queue: "low")
        leaving.stopping = true
        leaving.stoppingFor = JobID("first")
        let other = Self.plan([F.job("second", gpus: 4, queue: "high")], nodes, [leaving])
        #expect(other.pending[JobID("second")] == .resources)
        let own = Self.plan([F.job("first", gpus: 4, queue: "high")], nodes, [leaving])
        #expect(own.pending[JobID("first")] == .preempting && own.preemptions.isEmpty)
    }

    @Test func neverWithinATierNorANonPreemptibleQueueNorAYoungJob() {
        let nodes = [F.node("a", gpus: 2)]
        let cases: [(HeldResources, String)] = [
            (Self.running("same", on: "a", gpus: [0, 1], queue: "high"), "same tier"),
            (Self.running("mid", on: "a", gpus: [0, 1], queue: "mid"), "not preemptible"),
            (Self.running("young", on: "a", gpus: [0, 1], queue: "low", ranFor: 60), "ran 60 s of the 300 s minimum"),
        ]
        for (held, why) in cases {
            let schedule = Self.plan([F.job("urgent", gpus: 2, queue: "high")], nodes, [held])
            #expect(schedule.preemptions.isEmpty, "\(why)")
            #expect(schedule.pending[JobID("urgent")] == .resources, "\(why)")
        }
        // A low job cannot preempt at all, nor a mid one a mid one.
        let low = Self.plan(
            [F.job("l", gpus: 2, queue: "low")],
            nodes,
            [Self.running("x", on: "a", gpus: [0, 1], queue: "low")]
        )
        #expect(low.preemptions.isEmpty)
    }

    @Test func noPreemptionThatWouldStillNotFit() {
        // 3 of 4 GPUs are a mid job's: stopping the one low job frees 1, the urgent job needs 2.
        let nodes = [F.node("a", gpus: 4)]
        let held = [
            Self.running("mid", on: "a", gpus: [0, 1, 2], queue: "mid"),
            Self.running("low", on: "a", gpus: [3], queue: "low"),
        ]
        let schedule = Self.plan([F.job("urgent", gpus: 2, queue: "high")], nodes, held)
        #expect(schedule.preemptions.isEmpty)
    }

    @Test func aPreemptorWaitingForItsVictimsAsksForNoMoreAndKeepsTheNode() {
        let nodes = [F.node("a", gpus: 4)]
        // Its victim is stopping already; another low job runs beside it.
        let held = [
            Self.running("victim", on: "a", gpus: [0, 1], queue: "low", stopping: true),
            Self.running("other", on: "a", gpus: [2], queue: "low"),
        ]
        let schedule = Self.plan(
            [F.job("urgent", gpus: 3, queue: "high"), F.job("later", gpus: 1, submittedAt: 5, queue: "low")],
            nodes,
            held
        )
        #expect(schedule.preemptions.isEmpty, "the stopping victim is enough: no second victim")
        #expect(schedule.pending[JobID("urgent")] == .preempting)
        // GPU 3 is free now, but it is the preemptor's: the low job later in order does not get it.
        #expect(schedule.assignments.isEmpty)
    }

    /// Random clusters: every preemption obeys the rules, and the pass still gives no GPU twice.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func propertiesOnRandomClusters(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let queues = ["low", "mid", "high"]
        var preemptions = 0
        for round in 0..<300 {
            let nodes = (0..<Int.random(in: 1...5, using: &random)).map { F.node("n\($0)", gpus: 8) }
            var held: [HeldResources] = []
            var serial = 0
            for node in nodes {
                var free = Array(0..<8)
                free.shuffle(using: &random)
                while !free.isEmpty && Int.random(in: 0..<6, using: &random) != 0 {
                    let count = min(free.count, Int.random(in: 1...4, using: &random))
                    let gpus = Array(free.prefix(count)).sorted()
                    free.removeFirst(count)
                    serial += 1
                    held.append(
                        Self.running(
                            "r\(serial)",
                            on: node.id.rawValue,
                            gpus: gpus,
                            queue: queues.randomElement(using: &random)!,
                            ranFor: Int64.random(in: 0...7200, using: &random),
                            stopping: Int.random(in: 0..<8, using: &random) == 0
                        )
                    )
                }
            }
            let pending = (0..<Int.random(in: 1...6, using: &random)).map {
                F.job(
                    "p\($0)",
                    gpus: Int.random(in: 1...8, using: &random),
                    submittedAt: Int64($0),
                    queue: queues.randomElement(using: &random)!
                )
            }
            let schedule = Self.plan(pending, nodes, held)
            let heldByJob = Dictionary(grouping: held, by: { $0.job! })
            var victimsSeen = Set<JobID>()
            preemptions += schedule.preemptions.count
            for preemption in schedule.preemptions {
                let preemptor = try #require(pending.first { $0.id == preemption.job })
                let tier = Self.policy.queue(named: preemptor.spec.queue).priority
                #expect(schedule.pending[preemption.job] == .preempting, "round \(round)")
                #expect(!schedule.assignments.contains { $0.job == preemption.job })
                var freed = Set<Int>()
                for victim in preemption.victims {
                    #expect(victimsSeen.insert(victim).inserted, "round \(round): \(victim) chosen twice")
                    let allocation = try #require(heldByJob[victim]?.first)
                    let queue = Self.policy.queue(named: allocation.queue)
                    #expect(queue.preemptible && queue.priority < tier, "round \(round): \(victim) of \(queue.name)")
                    #expect(!allocation.stopping)
                    #expect(Self.now - allocation.startedAt! >= .seconds(300), "round \(round): too young")
                    if allocation.node == preemption.node { freed.formUnion(allocation.gpuIndices) }
                }
                // What the node will have once the victims (and jobs already stopping) are gone fits it.
                let staying = held.filter {
                    $0.node == preemption.node && !$0.stopping && !preemption.victims.contains($0.job!)
                }
                let busy = Set(staying.flatMap(\.gpuIndices))
                let placedThere = schedule.assignments.filter { $0.node == preemption.node }.flatMap(\.gpuIndices)
                #expect(8 - busy.count - placedThere.count >= preemptor.spec.resources.gpus, "round \(round)")
                #expect(!freed.isEmpty)
            }
            // No GPU given twice: new placements never touch a GPU held now.
            for assignment in schedule.assignments {
                let taken = Set(held.filter { $0.node == assignment.node }.flatMap(\.gpuIndices))
                #expect(taken.isDisjoint(with: assignment.gpuIndices), "round \(round)")
            }
        }
        // The generator makes preemption common enough for the properties to mean something.
        #expect(preemptions >= 30, "only \(preemptions) preemptions in 300 rounds")
    }
}
