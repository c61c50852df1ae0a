import ClusterCore
import Testing

/// `gpu_memory`: a minimum of memory per GPU, checked in fit, placement and explain.
@Suite struct GPUMemoryTests {
    typealias F = Fixtures

    static func node(_ id: String, gpus: Int, memoryMiB: Int?) -> Node {
        var node = F.node(id, gpus: gpus)
        for index in node.gpus.indices { node.gpus[index].memoryMiB = memoryMiB }
        return node
    }

    static func job(_ id: String, gpus: Int, gpuMemoryMiB: Int?) -> Job {
        var job = F.job(id, gpus: gpus)
        job.spec.gpuMemoryMiB = gpuMemoryMiB
        return job
    }

    @Test func onlyGPUsWithEnoughMemoryAreUsed() {
        let small = Self.node("small", gpus: 8, memoryMiB: 40_960)
        let large = Self.node("large", gpus: 2, memoryMiB: 81_559)
        let unknown = Self.node("unknown", gpus: 8, memoryMiB: nil)
        // "big" goes first (priority); "any" could have taken a large GPU by best fit otherwise.
        var big = Self.job("big", gpus: 2, gpuMemoryMiB: 80_000)
        big.spec.priority = 10
        let snapshot = ClusterSnapshot(
            pending: [big, Self.job("any", gpus: 1, gpuMemoryMiB: nil)],
            nodes: [small, large, unknown],
            now: .zero
        )
        let plan = Scheduler.plan(snapshot, policy: .standard)
        let placed = Dictionary(uniqueKeysWithValues: plan.assignments.map { ($0.job.rawValue, $0.node.rawValue) })
        #expect(placed["big"] == "large")
        #expect(placed["any"] != nil)
    }

    @Test func noGPUBigEnoughIsNoFeasibleNodeAndExplainSaysWhy() {
        let small = Self.node("small", gpus: 8, memoryMiB: 40_960)
        let job = Self.job("big", gpus: 1, gpuMemoryMiB: 80_000)
        let snapshot = ClusterSnapshot(pending: [job], nodes: [small], now: .zero)
        #expect(Scheduler.plan(snapshot, policy: .standard).pending[job.id] == .noFeasibleNode)
        let lines = Scheduler.explain(job: job, snapshot: snapshot, policy: .standard).map(\.description)
        #expect(lines == ["small: GPUs of 40G, wanted 78.1G per GPU"])
    }

    @Test func specValidation() {
        var spec = JobSpec(command: ["x"], resources: Resources(gpus: 1))
        spec.gpuMemoryMiB = 0
        #expect(
            throws: SpecError(field: "gpu_memory", message: "must be between 1 MiB and 16 TiB per GPU (e.g. \"80G\")")
        ) {
            try spec.validate()
        }
        spec.gpuMemoryMiB = 81_920
        #expect(throws: Never.self) { try spec.validate() }
    }

    /// Enough GPUs have the memory but two are unhealthy: that is what explain must say, not the memory.
    @Test func unhealthyGPUsAreNotBlamedOnMemory() {
        var node = Self.node("n", gpus: 8, memoryMiB: 81_559)
        node.gpus[0].healthy = false
        node.gpus[1].healthy = false
        let job = Self.job("j", gpus: 8, gpuMemoryMiB: 40_960)
        let snapshot = ClusterSnapshot(pending: [job], nodes: [node], now: .zero)
        let lines = Scheduler.explain(job: job, snapshot: snapshot, policy: .standard).map(\.description)
        #expect(lines == ["n: GPUs 0, 1 unhealthy: 6 usable, wanted 8"])
    }
}

/// `--gpu-mem 80G` fits the GPUs vendors sell as 80 GB (issue 18, finding 7).
@Suite struct VendorGPUMemoryTests {
    @Test(arguments: [
        ("80G", 81_559, true),  // H100 80GB HBM3 as nvidia-smi reports it (79.6 GiB)
        ("80G", 81_920, true),  // A100 80GB
        ("48G", 46_068, true),  // L40S
        ("24G", 24_564, true),  // RTX 4090
        ("40G", 40_960, true),  // A100 40GB
        ("80G", 40_960, false),
        ("80Gi", 81_559, false),  // binary on request: 81,920 MiB
        ("80GiB", 81_920, true),
    ])
    func vendorSizesFitTheCardsSoldAsSuch(_ text: String, _ reportedMiB: Int, _ fits: Bool) throws {
        let bytes = try #require(ByteSize.parseGPUMemory(text))
        let wantedMiB = Int((bytes + (1 << 20) - 1) >> 20)
        #expect((wantedMiB <= reportedMiB) == fits, "\(text) = \(wantedMiB) MiB against \(reportedMiB) MiB")
    }

    @Test func memoryStaysBinary() {
        #expect(ByteSize.parse("32G") == 32 << 30)
        #expect(ByteSize.parseGPUMemory("32G") == 32_000_000_000)
        #expect(ByteSize.parseGPUMemory("1024") == 1024)
        #expect(ByteSize.parseGPUMemory("lots") == nil)
    }
}
