import ClusterWire
import Synchronization

/// What the fleet has done so far, shared by every simulated agent's tasks.
final class FleetCounters: Sendable {
    let heartbeats = Atomic<Int>(0)
    let heartbeatErrors = Atomic<Int>(0)
    let polls = Atomic<Int>(0)
    let pollErrors = Atomic<Int>(0)
    let launches = Atomic<Int>(0)
    let exits = Atomic<Int>(0)
    let reportErrors = Atomic<Int>(0)
    private let latencies = Mutex<[Double]>([])
    /// Allocations each node is running, by node index (what its heartbeats report).
    private let running = Mutex<[Int: [String: Int32]]>([:])
    /// Allocation ids already launched: a launch delivered twice starts once, as with the real agent.
    private let seen = Mutex<Set<String>>([])

    func recordLatency(_ milliseconds: Double) { latencies.withLock { $0.append(milliseconds) } }

    func takeLatencies() -> [Double] {
        latencies.withLock { list in
            defer { list = [] }
            return list
        }
    }

    func firstLaunch(_ allocation: String) -> Bool { seen.withLock { $0.insert(allocation).inserted } }

    func start(_ allocation: String, pid: Int32, on node: Int) {
        running.withLock { $0[node, default: [:]][allocation] = pid }
    }

    @discardableResult
    func finish(_ allocation: String, on node: Int) -> Bool {
        running.withLock { $0[node]?.removeValue(forKey: allocation) != nil }
    }

    func running(on node: Int) -> [RunningAllocation] {
        running.withLock { all in
            (all[node] ?? [:]).sorted { $0.key < $1.key }.map { RunningAllocation(allocationId: $0.key, pid: $0.value) }
        }
    }
}
