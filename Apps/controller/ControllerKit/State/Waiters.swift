import ClusterCore

/// Long polls waiting for work, by node. Each is resumed exactly once: by `wakeAll` (work is there) or by its
/// own timer (the poll's deadline).
struct Waiters {
    private var byNode: [NodeID: [Int: CheckedContinuation<Void, Never>]] = [:]
    private var next = 0

    mutating func add(_ continuation: CheckedContinuation<Void, Never>, node: NodeID) -> Int {
        let id = next
        next += 1
        byNode[node, default: [:]][id] = continuation
        return id
    }

    mutating func wake(node: NodeID, waiter: Int) {
        byNode[node]?.removeValue(forKey: waiter)?.resume()
    }

    mutating func wakeAll(node: NodeID) {
        guard let pending = byNode.removeValue(forKey: node) else { return }
        for continuation in pending.values { continuation.resume() }
    }
}

extension ClusterState {
    /// Suspends until work for `node` may be there, or until `deadline`.
    func waitForWork(node: NodeID, until deadline: Timestamp) async {
        let delay = deadline - clock.now()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id = waiters.add(continuation, node: node)
            Task { [weak self] in
                try? await Task.sleep(for: delay)
                await self?.wake(node: node, waiter: id)
            }
        }
    }

    func wake(node: NodeID, waiter: Int) { waiters.wake(node: node, waiter: waiter) }

    func wakeAll(node: NodeID) { waiters.wakeAll(node: node) }
}
