import ClusterCore
import ClusterCoreTesting
import Testing

/// `PreparedNodes.largestFree`: the bound the controller reads to let a pass asked for by new jobs wait
/// (docs/scheduling.md, "When a pass runs"). The claim it must keep: a job it says no node can hold is placed by
/// no pass of that moment.
@Suite struct FreeRoomTests {
    static func node(
        _ id: String,
        gpus: Int,
        cpus: Int,
        memory: Int64,
        drained: Bool = false,
        unhealthyGPU: Int? = nil
    )
        -> Node
    {
        Node(
            id: NodeID(id),
            hostname: id,
            gpus: (0..<gpus).map { GPU(index: $0, uuid: "\(id)-\($0)", name: "H100", healthy: $0 != unhealthyGPU) },
            cpus: cpus,
            memory: memory,
            drained: drained,
            registeredAt: Timestamp(milliseconds: 0),
            lastHeartbeat: Timestamp(milliseconds: 0)
        )
    }

    @Test func theLargestRoomOfEachResourceAmongSchedulableNodes() {
        let nodes = [
            Self.node("a", gpus: 8, cpus: 64, memory: 512, unhealthyGPU: 7),
            Self.node("b", gpus: 4, cpus: 96, memory: 256),
            // Drained: its room counts for nothing.
            Self.node("c", gpus: 8, cpus: 128, memory: 1024, drained: true),
        ]
        var prepared = PreparedNodes(nodes)
        #expect(prepared.largestFree == nil, "not known before the held allocations are kept")
        let held = HeldResources(
            node: NodeID("a"),
            gpuIndices: [0, 1, 2],
            resources: Resources(gpus: 3, cpus: 60, memory: 100)
        )
        prepared.trackHeld(
            [AllocationID(job: JobID("held"), attempt: 1): held],
            policy: .standard,
            now: Timestamp(milliseconds: 0)
        )
        // a: 4 healthy GPUs free (0-2 taken, 7 unhealthy), 4 CPUs, 412; b: 4, 96, 256.
        #expect(prepared.largestFree == Resources(gpus: 4, cpus: 96, memory: 412))
        let room = prepared.largestFree!
        #expect(Resources(gpus: 4, cpus: 4, memory: 400).fits(in: room))
        #expect(!Resources(gpus: 5, cpus: 1, memory: 1).fits(in: room))
        #expect(!Resources(gpus: 0, cpus: 97, memory: 1).fits(in: room))
        #expect(!Resources(gpus: 0, cpus: 1, memory: 413).fits(in: room))
        // No node at all: no room for any job that asks for something.
        var none = PreparedNodes([])
        none.trackHeld([:], policy: .standard, now: Timestamp(milliseconds: 0))
        #expect(none.largestFree == Resources())
        #expect(!Resources(cpus: 1).fits(in: Resources()))
    }

    /// On random clusters, holdings and queues (no preemptible queue, as the controller requires): every job the
    /// room says cannot start is left pending by the pass, and so is every rank of a gang.
    @Test(arguments: 0..<60)
    func noJobTheRoomRulesOutIsPlaced(_ seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 104_729 &+ 5)
        var scenario = SchedulerPropertyTests.randomPolicyScenario(&rng)
        #expect(!scenario.policy.queues.values.contains { $0.preemptible })
        var held: [AllocationID: HeldResources] = [:]
        for (position, allocation) in scenario.held.enumerated() {
            held[AllocationID(job: allocation.job ?? JobID("held-\(position)"), attempt: 1, rank: position)] =
                allocation
        }
        var prepared: PreparedNodes? = PreparedNodes(scenario.nodes)
        prepared?.trackHeld(held, policy: scenario.policy, now: scenario.now)
        let room = prepared!.largestFree!
        scenario.held = []
        let schedule = Scheduler.plan(scenario.snapshot, policy: scenario.policy, prepared: &prepared)
        let placed = Set(schedule.assignments.map(\.job)).union(schedule.gangAssignments.map(\.job))
        for job in scenario.pending where !job.spec.resources.fits(in: room) {
            #expect(!placed.contains(job.id), "seed \(seed): \(job.id) asks for \(job.spec.resources), room \(room)")
        }
    }
}
