public import ClusterCore

/// A large, repeatable cluster for timing one pass (`just bench`) and for the scale test: nodes of
/// `gpusPerNode` GPUs in two types and two racks, a third of their GPUs held by running jobs with expected
/// ends, and pending jobs with mixed requests (1, 2, 4 or 8 GPUs, some CPU-only, some with a gpu_type or a
/// rack label) from a few users in two queues. With `gangs`, that many of the pending jobs (spread through
/// them) are gangs of 2 to 8 nodes with 4 or 8 GPUs each.
public enum SchedulerBenchmark {
    public static let policy = SchedulingPolicy(queues: [
        QueueConfig(name: "default", priority: 0, defaultTimeLimit: 4 * 3600),
        QueueConfig(name: "urgent", priority: 10, maxRunningGPUsPerUser: 64, defaultTimeLimit: 3600),
    ])

    public static func makeSnapshot(
        pendingJobs: Int,
        nodes nodeCount: Int,
        gpusPerNode: Int,
        gangs: Int = 0,
        seed: UInt64
    )
        -> ClusterSnapshot
    {
        var random = SplitMix64(seed: seed)
        let now = Timestamp(milliseconds: 1_700_000_000_000)
        var nodes: [Node] = []
        var held: [HeldResources] = []
        nodes.reserveCapacity(nodeCount)
        for n in 0..<nodeCount {
            let id = NodeID("node-\(String(n + 100_000).dropFirst())")
            let name = n % 4 == 3 ? "NVIDIA A100-SXM4-80GB" : "NVIDIA H100 80GB HBM3"
            let gpus = (0..<gpusPerNode).map { GPU(index: $0, uuid: "GPU-\(n)-\($0)", name: name) }
            nodes.append(
                Node(
                    id: id,
                    hostname: id.rawValue,
                    gpus: gpus,
                    cpus: 128,
                    memory: 1 << 40,
                    labels: ["rack": n % 2 == 0 ? "a" : "b"],
                    registeredAt: .zero,
                    lastHeartbeat: .zero
                )
            )
            // A third of the GPUs run jobs of 1 to 4 GPUs that end within the next 4 hours.
            var next = 0
            while next < gpusPerNode / 3 {
                let count = min(1 + Int(random.next() % 4), gpusPerNode - next)
                held.append(
                    HeldResources(
                        node: id,
                        gpuIndices: Array(next..<(next + count)),
                        resources: Resources(gpus: count, cpus: 8 * count, memory: Int64(count) << 34),
                        job: JobID("run-\(n)-\(next)"),
                        user: "user\(random.next() % 8)",
                        allocatedAt: now,
                        expectedEnd: now + .seconds(60 + Int(random.next() % 14_400))
                    )
                )
                next += count
            }
        }
        let shapes = [1, 1, 1, 2, 2, 4, 8, 0]
        var pending: [Job] = []
        pending.reserveCapacity(pendingJobs)
        for j in 0..<pendingJobs {
            let gpus = shapes[Int(random.next() % UInt64(shapes.count))]
            let roll = random.next() % 20
            let spec = JobSpec(
                command: ["train"],
                queue: roll == 0 ? "urgent" : "default",
                resources: Resources(gpus: gpus, cpus: gpus == 0 ? 4 : 8 * gpus, memory: Int64(max(gpus, 1)) << 34),
                gpuType: roll == 1 ? "A100" : (roll == 2 ? "h100" : nil),
                timeLimit: random.next() % 3 == 0 ? nil : 600 * (1 + Int(random.next() % 24)),
                priority: Int(random.next() % 3),
                labels: roll == 3 ? ["rack": "b"] : [:]
            )
            pending.append(
                Job(
                    id: JobID("job-\(j)"),
                    spec: spec,
                    user: "user\(random.next() % 16)",
                    submittedAt: Timestamp(milliseconds: now.milliseconds - Int64(random.next() % 86_400_000))
                )
            )
        }
        let stride = gangs > 0 ? max(1, pendingJobs / gangs) : 0
        for g in 0..<min(gangs, pendingJobs) {
            let index = g * stride
            pending[index].spec.nodes = 2 + g % 7
            pending[index].spec.resources = Resources(gpus: g % 2 == 0 ? 8 : 4, cpus: 32, memory: 1 << 36)
            pending[index].spec.gpuType = nil
            pending[index].spec.labels = [:]
        }
        var usage = FairShareUsage()
        for u in 0..<16 { usage.record(user: "user\(u)", gpuSeconds: Double(u * 3600), at: now) }
        return ClusterSnapshot(pending: pending, nodes: nodes, held: held, usage: usage, now: now)
    }
}
