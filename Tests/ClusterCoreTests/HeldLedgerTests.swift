import ClusterCore
import ClusterCoreTesting
import Testing

/// The held allocations kept between passes (issue 16, HeldLedger.swift) plan exactly what a pass that builds
/// everything from the snapshot's list plans: on random event sequences of one cluster (allocations held,
/// released and changed, the clock moving past their ends, nodes changing under them, the policy changing),
/// one `PreparedNodes` is changed by event, and after every event both paths plan the same pending jobs under
/// four policies (best fit, shortest-first, with preemptible queues, and with both).
@Suite struct HeldLedgerTests {
    typealias Scenario = SchedulerTests.Scenario

    /// The random scenario's policy with a preemptible low queue and a minimum run time.
    static func preempting(_ policy: SchedulingPolicy) -> SchedulingPolicy {
        var policy = policy
        policy.setQueue(QueueConfig(name: "default", priority: 0, preemptible: true))
        policy.setQueue(QueueConfig(name: "hi", priority: 5))
        policy.preemptionMinRuntime = 60
        return policy
    }

    static func policies(_ base: SchedulingPolicy) -> [SchedulingPolicy] {
        var shortest = base
        _ = shortest.use("shortest-first")
        var shortestPreempting = preempting(base)
        _ = shortestPreempting.use("shortest-first")
        return [base, shortest, preempting(base), shortestPreempting]
    }

    /// A random allocation on one of `nodes` (or on a node no longer there), owned by a random job.
    static func randomHeld(_ rng: inout SplitMix64, nodes: [Node], now: Timestamp) -> HeldResources {
        let node = nodes.randomElement(using: &rng)
        let indices = (node?.gpus.map(\.index) ?? []).shuffled(using: &rng)
        let count = Int.random(in: 0...min(3, indices.count), using: &rng)
        var held = HeldResources(
            node: node?.id ?? NodeID("gone-node"),
            gpuIndices: Array(indices.prefix(count)),
            resources: Resources(
                gpus: count,
                cpus: Int.random(in: 0...16, using: &rng),
                memory: Int64.random(in: 0...(64 << 30), using: &rng)
            ),
            job: Bool.random(using: &rng) ? JobID("run\(Int.random(in: 0..<30, using: &rng))") : nil,
            user: Bool.random(using: &rng) ? ["alice", "bob", "carol"].randomElement(using: &rng)! : nil,
            queue: ["default", "default", "hi", "gone"].randomElement(using: &rng)!,
            allocatedAt: now + .seconds(-Int.random(in: 0...3600, using: &rng))
        )
        if Bool.random(using: &rng) { held.expectedEnd = now + .seconds(Int.random(in: -100...7200, using: &rng)) }
        if Bool.random(using: &rng) { held.startedAt = now + .seconds(-Int.random(in: 0...600, using: &rng)) }
        held.stopping = Int.random(in: 0..<5, using: &rng) == 0
        if held.stopping && Bool.random(using: &rng) {
            held.stoppingFor = JobID("job\(Int.random(in: 0..<5, using: &rng))")
        }
        return held
    }

    @Test(arguments: 0..<60)
    func keptAndFromScratchPassesAgreeOnRandomEvents(_ seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 104_729 &+ 7)
        var scenario = SchedulerPropertyTests.randomPolicyScenario(&rng)
        var truth: [AllocationID: HeldResources] = [:]
        var next = 0
        for held in scenario.held {
            truth[AllocationID(job: JobID("held\(next)"), attempt: 1)] = held
            next += 1
        }
        var prepared = PreparedNodes(scenario.nodes)
        prepared.trackHeld(truth, policy: scenario.policy, now: scenario.now)
        for step in 0..<30 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<3:
                let id = AllocationID(job: JobID("held\(next)"), attempt: 1, rank: Int.random(in: 0...1, using: &rng))
                next += 1
                truth[id] = Self.randomHeld(&rng, nodes: scenario.nodes, now: scenario.now)
                prepared.setHeld(id, truth[id], now: scenario.now)
            case 3, 4:
                guard let id = truth.keys.sorted().randomElement(using: &rng) else { continue }
                truth[id] = nil
                prepared.setHeld(id, nil, now: scenario.now)
            case 5:
                // A job's allocation changes: it starts, is asked to stop, its time limit moves.
                guard let id = truth.keys.sorted().randomElement(using: &rng) else { continue }
                truth[id]?.startedAt = scenario.now
                truth[id]?.stopping.toggle()
                truth[id]?.expectedEnd = scenario.now + .seconds(Int.random(in: -60...3600, using: &rng))
                prepared.setHeld(id, truth[id], now: scenario.now)
            case 6:
                // Time passes: ends fall behind now.
                scenario.now = scenario.now + .seconds(Int.random(in: 1...4000, using: &rng))
            case 7:
                // A node is drained, comes back, or leaves; another may come: new prepared nodes, same holdings.
                if let position = scenario.nodes.indices.randomElement(using: &rng) {
                    if Bool.random(using: &rng) {
                        scenario.nodes[position].drained.toggle()
                    } else {
                        scenario.nodes.remove(at: position)
                    }
                }
                if Bool.random(using: &rng) {
                    var other = SchedulerPropertyTests.randomPolicyScenario(&rng)
                    if let node = other.nodes.popLast() { scenario.nodes.append(node) }
                }
                prepared = PreparedNodes(scenario.nodes, keepingHeldOf: prepared)
            case 8:
                // Other pending jobs.
                scenario.pending = SchedulerPropertyTests.randomPolicyScenario(&rng).pending
            default:
                // The same allocation put in again changes nothing.
                guard let id = truth.keys.sorted().randomElement(using: &rng) else { continue }
                prepared.setHeld(id, truth[id], now: scenario.now)
            }
            #expect(prepared.heldEntries == truth, "seed \(seed), step \(step)")
            var fromScratch = scenario
            fromScratch.held = Array(truth.values).shuffled(using: &rng)
            var kept = scenario
            kept.held = []
            for policy in Self.policies(scenario.policy) {
                var keptPrepared: PreparedNodes? = prepared
                let planned = Scheduler.plan(kept.snapshot, policy: policy, prepared: &keptPrepared)
                #expect(
                    planned == Scheduler.plan(fromScratch.snapshot, policy: policy),
                    "seed \(seed), step \(step), policy \(policy.ordering)"
                )
                // The pass hands the ledger back under the policy it planned with.
                #expect(keptPrepared?.heldPolicy == policy)
                #expect(keptPrepared?.heldEntries == truth)
            }
        }
    }

    /// Kept ends are compared with now where they are read: two allocations past their ends free together at
    /// now, as they do when a pass clamps them first. Counted one by one, the reservation of `big` (4 GPUs and
    /// 4 CPUs) would see only the first one's CPUs at its start, and refuse `cpu` the 10 CPUs both leave it.
    @Test func overdueEndsFreeTogetherAsWhenClampedFirst() {
        let node = Fixtures.node("a", cpus: 32)
        let now = Timestamp(milliseconds: 10_000_000)
        func overdue(_ gpus: Range<Int>, cpus: Int, endedAgo seconds: Int) -> HeldResources {
            HeldResources(
                node: node.id,
                gpuIndices: Array(gpus),
                resources: Resources(gpus: gpus.count, cpus: cpus),
                allocatedAt: now + .seconds(-7200),
                expectedEnd: now + .seconds(-seconds)
            )
        }
        let held: [AllocationID: HeldResources] = [
            AllocationID(job: JobID("x"), attempt: 1): overdue(0..<4, cpus: 0, endedAgo: 100),
            AllocationID(job: JobID("y"), attempt: 1): overdue(4..<8, cpus: 20, endedAgo: 50),
        ]
        var prepared: PreparedNodes? = PreparedNodes([node])
        prepared?.trackHeld(held, policy: .standard, now: now)
        let pending = [Fixtures.job("big", gpus: 4, cpus: 4), Fixtures.job("cpu", gpus: 0, cpus: 10, submittedAt: 1)]
        let kept = Scheduler.plan(
            ClusterSnapshot(pending: pending, nodes: [node], now: now),
            policy: .standard,
            prepared: &prepared
        )
        let fromScratch = Scheduler.plan(
            ClusterSnapshot(pending: pending, nodes: [node], held: Array(held.values), now: now),
            policy: .standard
        )
        #expect(kept == fromScratch)
        #expect(kept.reservation?.job == JobID("big"))
        #expect(kept.assignments.map(\.job) == [JobID("cpu")])
    }

    @Test func releasingOneOfTwoClaimsOnAGPUKeepsItTaken() {
        let node = Fixtures.node("a")
        var prepared = PreparedNodes([node])
        let now = Timestamp(milliseconds: 1_000_000)
        prepared.trackHeld([:], policy: .standard, now: now)
        let first = AllocationID(job: JobID("one"), attempt: 1)
        let second = AllocationID(job: JobID("two"), attempt: 1)
        let claim = HeldResources(
            node: node.id,
            gpuIndices: Array(0..<8),
            resources: Resources(gpus: 8),
            allocatedAt: now
        )
        prepared.setHeld(first, claim, now: now)
        prepared.setHeld(second, claim, now: now)
        prepared.setHeld(first, nil, now: now)
        #expect(prepared.heldAllocations(of: JobID("two")) == [second])
        #expect(prepared.heldAllocations(of: JobID("one")).isEmpty)
        var maybe: PreparedNodes? = prepared
        let snapshot = ClusterSnapshot(pending: [Fixtures.job("big", gpus: 1)], nodes: [node], now: now)
        let schedule = Scheduler.plan(snapshot, policy: .standard, prepared: &maybe)
        #expect(schedule.assignments.isEmpty)
        #expect(schedule.pending[JobID("big")] == .resources)
    }
}
