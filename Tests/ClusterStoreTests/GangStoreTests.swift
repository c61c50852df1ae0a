import ClusterCore
import TestSupport
import Testing

@testable import ClusterStore

/// Gang attempts and array tasks survive a reopen of the database field by field, and the node address too.
@Suite struct GangStoreTests {
    static let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    @Test(arguments: SQLEngine.allCases) func aGangAttemptAndAnArrayTaskRoundTrip(engine: SQLEngine) throws {
        try withStore(engine) { path in
            var gang = Job(
                id: JobID("gang1"),
                spec: JobSpec(command: ["torchrun"], resources: Resources(gpus: 2, cpus: 4, memory: 1 << 30), nodes: 3),
                user: "alice",
                submittedAt: Self.t0
            )
            var attempt = Attempt(
                number: 1,
                ranks: [
                    Placement(node: NodeID("a"), gpuIndices: [0, 1]), Placement(node: NodeID("b"), gpuIndices: [2, 3]),
                    Placement(node: NodeID("c"), gpuIndices: [0, 1]),
                ],
                resources: gang.spec.resources,
                allocatedAt: Self.t0,
                port: 29_501
            )
            attempt.ranks[0].accepted = true
            attempt.ranks[0].startedAt = Self.t0 + .seconds(1)
            attempt.ranks[0].pid = 4242
            attempt.ranks[1].accepted = true
            attempt.ranks[1].endedAt = Self.t0 + .seconds(2)
            attempt.ranks[1].endKind = .exited
            attempt.ranks[1].exit = JobExit(code: 3, message: "boom")
            attempt.ranks[1].usage = ResourceUsage(cpuSeconds: 1.5, memoryBytes: 10, peakMemoryBytes: 20)
            attempt.ranks[2].endedAt = Self.t0 + .seconds(3)
            attempt.ranks[2].exit = JobExit(message: "its node was lost")
            attempt.failedRank = 1
            gang.state = .running
            gang.attempts = [attempt]
            var task = Job(id: JobID("arr_7"), spec: JobSpec(command: ["sweep"]), user: "bob", submittedAt: Self.t0)
            task.array = ArrayTask(array: JobID("arr"), index: 7, count: 10, limit: 3)
            var node = Node(
                id: NodeID("a"),
                hostname: "a.example",
                gpus: [],
                cpus: 8,
                memory: 1 << 34,
                registeredAt: Self.t0,
                lastHeartbeat: Self.t0
            )
            node.address = "10.0.0.7"
            do {
                let db = try path.open()
                try db.insertJob(gang)
                try db.insertJob(task)
                try db.saveNode(node)
            }
            let db = try path.open()
            let loaded = try db.loadJobs()
            #expect(loaded.first { $0.id == gang.id } == gang)
            #expect(loaded.first { $0.id == task.id }?.array == task.array)
            #expect(loaded.first { $0.id == gang.id }?.spec.nodes == 3)
            #expect(try db.loadNodes().first?.address == "10.0.0.7")
            // A later change to one rank is written with its attempt.
            gang.attempts[0].ranks[0].endedAt = Self.t0 + .seconds(9)
            gang.attempts[0].ranks[0].endKind = .fenced
            try db.updateJob(gang, attempts: [1])
            #expect(try db.loadJobs().first { $0.id == gang.id } == gang)
        }
    }
}

@Suite struct StoredArrayTaskTests {
    /// The hand-written JSON of an array task is what the encoder writes, and reads back.
    @Test(arguments: [
        ArrayTask(array: JobID("abc"), index: 7, count: 10, limit: 3),
        ArrayTask(array: JobID("x-y_z"), index: 0, count: 1, limit: nil),
    ])
    func matchesTheEncoder(_ task: ArrayTask) throws {
        let fast = try StoredArrayTask.json(task)
        #expect(fast == (try StoredSpec.encode(StoredArrayTask(task))))
        #expect(try StoredSpec.decode(StoredArrayTask.self, fast).task == task)
    }
}
