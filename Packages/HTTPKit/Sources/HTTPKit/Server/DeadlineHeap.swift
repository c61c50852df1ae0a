/// A binary min-heap of connection deadlines with lazy invalidation: re-arming a connection bumps its
/// generation, and entries whose generation no longer matches are skipped when they surface.
struct DeadlineHeap {
    struct Entry {
        let at: Int64
        let id: UInt64
        let generation: UInt64
    }

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }
    var first: Entry? { entries.first }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].at < entries[parent].at else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let first = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].at < entries[smallest].at { smallest = left }
            if right < entries.count && entries[right].at < entries[smallest].at { smallest = right }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    /// Drops stale entries (those `isLive` rejects) and rebuilds the heap.
    mutating func compact(isLive: (Entry) -> Bool) {
        let live = entries.filter(isLive)
        entries.removeAll(keepingCapacity: true)
        for entry in live { push(entry) }
    }
}
