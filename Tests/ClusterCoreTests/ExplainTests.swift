import ClusterCore
import Testing

@Suite struct ExplainTests {
    typealias F = Fixtures

    static func lines(
        _ job: Job,
        _ nodes: [Node],
        held: [HeldResources] = [],
        policy: SchedulingPolicy = .standard
    )
        -> [String]
    {
        let snapshot = ClusterSnapshot(pending: [job], nodes: nodes, held: held, now: SchedulerPolicyTests.now)
        return Scheduler.explain(job: job, snapshot: snapshot, policy: policy).map(\.description)
    }

    @Test func oneLinePerNodeByID() {
        var drained = F.node("node-3", drained: true)
        drained.drainReason = "maintenance"
        let nodes = [
            F.node("node-7", name: F.a100), drained, F.node("node-4", status: .lost),
            F.node("node-8", status: .unhealthy), F.node("node-2", labels: ["rack": "b"]),
            F.node("node-6", gpus: 4, unhealthy: [3]), F.node("node-1", cpus: 8), F.node("node-9", memory: 64 << 30),
            F.node("node-5", gpus: 4), F.node("node-0"),
        ]
        let held = [
            HeldResources(node: NodeID("node-5"), gpuIndices: [0, 1], resources: Resources(gpus: 2)),
            HeldResources(node: NodeID("node-1"), gpuIndices: [], resources: Resources(cpus: 5)),
        ]
        let job = F.job("j", gpus: 3, cpus: 2, memory: 128 << 30, gpuType: "H100", labels: ["rack": "a"])
        var unlabeled = nodes
        for i in unlabeled.indices where unlabeled[i].id != NodeID("node-2") { unlabeled[i].labels["rack"] = "a" }
        #expect(
            Self.lines(job, unlabeled, held: held) == [
                "node-0: fits",
                "node-1: fits",
                "node-2: label rack=b, wanted rack=a",
                "node-3: drained (maintenance)",
                "node-4: lost",
                "node-5: 2 of 4 H100 GPUs free, wanted 3",
                "node-6: fits",
                "node-7: gpu_type NVIDIA A100-SXM4-40GB, wanted H100",
                "node-8: unhealthy",
                "node-9: has 64G memory, wanted 128G",
            ]
        )
    }

    /// A job with an image runs only where the agent has a container runtime (it labels its node so).
    @Test func containerJobsGoOnlyToNodesWithARuntime() {
        var job = F.job("j", gpus: 1)
        job.spec.image = "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime"
        let docker = F.node("b", labels: [NodeLabels.containers: "docker"])
        #expect(
            Self.lines(job, [F.node("a"), docker]) == [
                "a: runs no container jobs (no [containers] docker in its agent.toml)", "b: fits",
            ]
        )
        let snapshot = ClusterSnapshot(pending: [job], nodes: [F.node("a"), docker], now: SchedulerPolicyTests.now)
        #expect(Scheduler.plan(snapshot, policy: .standard).assignments.map(\.node) == [NodeID("b")])
        let only = ClusterSnapshot(pending: [job], nodes: [F.node("a")], now: SchedulerPolicyTests.now)
        #expect(Scheduler.plan(only, policy: .standard).pending[job.id] == .noFeasibleNode)
        // Jobs without an image go anywhere, also in the same pass as one with an image (each kind of job
        // has its own fit index).
        #expect(Self.lines(F.job("k", gpus: 1), [F.node("a")]) == ["a: fits"])
        let mixed = ClusterSnapshot(
            pending: [F.job("k", gpus: 1), job],
            nodes: [F.node("a")],
            now: SchedulerPolicyTests.now
        )
        let schedule = Scheduler.plan(mixed, policy: .standard)
        #expect(schedule.assignments.map(\.job) == [JobID("k")])
        #expect(schedule.pending[job.id] == .noFeasibleNode)
    }

    @Test func busyAndNeverLines() {
        let held = [HeldResources(node: NodeID("a"), gpuIndices: [], resources: Resources(cpus: 6))]
        #expect(
            Self.lines(F.job("j", cpus: 4), [F.node("a", cpus: 8)], held: held) == ["a: 2 of 8 CPUs free, wanted 4"]
        )
        #expect(
            Self.lines(F.job("j", gpus: 4), [F.node("a", gpus: 4, unhealthy: [1, 2])]) == [
                "a: GPUs 1, 2 unhealthy: 2 usable, wanted 4"
            ]
        )
        #expect(Self.lines(F.job("j", gpus: 9), [F.node("a")]) == ["a: has 8 GPUs, wanted 9"])
        #expect(Self.lines(F.job("j", cpus: 100), [F.node("a")]) == ["a: has 64 CPUs, wanted 100"])
        #expect(
            Self.lines(F.job("j", gpus: 1, gpuType: "H100"), [F.node("a", gpus: 0)]) == [
                "a: no GPUs, wanted gpu_type H100"
            ]
        )
        let policy = SchedulingPolicy(queues: [QueueConfig(name: "ib", nodeSelector: ["fabric": "ib"])])
        #expect(
            Self.lines(F.job("j", queue: "ib"), [F.node("a")], policy: policy) == [
                "a: no label fabric, wanted fabric=ib (queue ib)"
            ]
        )
        let full = [HeldResources(node: NodeID("a"), gpuIndices: [], resources: Resources(memory: 500 << 30))]
        #expect(
            Self.lines(F.job("j", memory: 64 << 30), [F.node("a")], held: full) == [
                "a: 12G of 512G memory free, wanted 64G"
            ]
        )
    }

    @Test func verdictsMatchTheReason() {
        let job = F.job("j", gpus: 16)
        let snapshot = ClusterSnapshot(pending: [job], nodes: [F.node("a"), F.node("b")], now: .zero)
        let lines = Scheduler.explain(job: job, snapshot: snapshot, policy: .standard)
        #expect(lines.allSatisfy { $0.verdict == .never })
        #expect(Scheduler.plan(snapshot, policy: .standard).pending[job.id] == .noFeasibleNode)
    }
}
