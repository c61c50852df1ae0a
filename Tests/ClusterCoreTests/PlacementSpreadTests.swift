import ClusterCore
import ClusterCoreTesting
import Testing

/// Jobs without GPUs spread over an idle fleet (issue 16: 10,000 simulated nodes sent every CPU-only job to
/// the first one), under both placements; jobs with GPUs still pack.
@Suite struct PlacementSpreadTests {
    typealias F = Fixtures

    static var policies: [SchedulingPolicy] {
        var shortest = SchedulingPolicy.standard
        _ = shortest.use("shortest-first")
        return [.standard, shortest]
    }

    @Test(arguments: [0, 1])
    func cpuOnlyJobsSpreadOverIdleNodes(_ policyIndex: Int) {
        let nodes = (0..<4).map { F.node("n\($0)", gpus: 0, cpus: 8) }
        // Short jobs: shortest-first holds a node back from long ones (its drain), not from these.
        let jobs = (0..<8).map { F.job("j\($0)", gpus: 0, cpus: 1, submittedAt: Int64($0), timeLimit: 60) }
        let schedule = Scheduler.plan(
            ClusterSnapshot(pending: jobs, nodes: nodes, now: SchedulerPolicyTests.now),
            policy: Self.policies[policyIndex]
        )
        var perNode: [NodeID: Int] = [:]
        for assignment in schedule.assignments { perNode[assignment.node, default: 0] += 1 }
        #expect(schedule.assignments.count == 8)
        #expect(perNode.values.sorted() == [2, 2, 2, 2], "\(perNode)")
        // The first goes to the lowest node id among equals.
        #expect(schedule.assignments.first?.node == NodeID("n0"))
    }

    @Test(arguments: [0, 1])
    func cpuOnlyJobsLeaveFreeGPUsToGPUJobs(_ policyIndex: Int) {
        // A GPU node with more CPUs free, and a CPU-only node: the CPU job goes to the CPU-only one.
        let nodes = [F.node("gpu", gpus: 8, cpus: 128), F.node("cpu", gpus: 0, cpus: 16)]
        let schedule = Scheduler.plan(
            ClusterSnapshot(pending: [F.job("c", gpus: 0, cpus: 2)], nodes: nodes, now: SchedulerPolicyTests.now),
            policy: Self.policies[policyIndex]
        )
        #expect(schedule.assignment("c")?.node == NodeID("cpu"))
    }

    @Test(arguments: [0, 1])
    func gpuJobsStillPack(_ policyIndex: Int) {
        let nodes = (0..<4).map { F.node("n\($0)", gpus: 8) }
        let jobs = (0..<4).map { F.job("g\($0)", gpus: 2, submittedAt: Int64($0)) }
        let schedule = Scheduler.plan(
            ClusterSnapshot(pending: jobs, nodes: nodes, now: SchedulerPolicyTests.now),
            policy: Self.policies[policyIndex]
        )
        #expect(Set(schedule.assignments.map(\.node)) == [NodeID("n0")])
    }

    @Test func aCPUOnlyJobSkipsNodesWithoutTheMemory() {
        let nodes = [
            F.node("big", gpus: 0, cpus: 64, memory: 1 << 30), F.node("small", gpus: 0, cpus: 8, memory: 64 << 30),
        ]
        let schedule = Scheduler.plan(
            ClusterSnapshot(
                pending: [F.job("m", gpus: 0, cpus: 1, memory: 8 << 30)],
                nodes: nodes,
                now: SchedulerPolicyTests.now
            ),
            policy: .standard
        )
        #expect(schedule.assignment("m")?.node == NodeID("small"))
    }
}
