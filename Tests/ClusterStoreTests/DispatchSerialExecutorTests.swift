import ClusterStore
import Testing

private actor QueueBoundStore {
    let executor: DispatchSerialExecutor
    private let connection: Connection

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    init(label: String) throws {
        executor = DispatchSerialExecutor(label: label)
        connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE t (v INTEGER)")
    }

    func isOnExecutorQueue() -> Bool {
        executor.isOnQueue()
    }

    func insert(_ value: Int) throws -> Bool {
        // Both checks would trap or fail off the queue.
        executor.checkIsolated()
        try connection.run("INSERT INTO t VALUES (?)", [SQLValue(value)])
        return executor.isOnQueue()
    }

    func count() throws -> Int {
        try connection.queryOne("SELECT count(*) FROM t")?.int("count(*)") ?? -1
    }
}

@Suite struct DispatchSerialExecutorTests {
    @Test func actorMethodsRunOnTheExecutorsQueue() async throws {
        let store = try QueueBoundStore(label: "corral.test.store")
        #expect(await store.isOnExecutorQueue())
        #expect(!store.executor.isOnQueue())
        #expect(store.executor.label == "corral.test.store")
        let other = DispatchSerialExecutor(label: "corral.test.store")
        #expect(!other.isOnQueue())
    }

    @Test func concurrentCallersAreSerialized() async throws {
        let store = try QueueBoundStore(label: "corral.test.concurrent")
        let allOnQueue = try await withThrowingTaskGroup(of: Bool.self) { group in
            for value in 0..<200 {
                group.addTask { try await store.insert(value) }
            }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(allOnQueue)
        #expect(try await store.count() == 200)
    }
}
