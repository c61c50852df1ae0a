import ClusterCore

/// The jobs in memory by the last three bytes of their ids, so that a job named by an end of its id
/// (`ClusterState.resolveJob`: at least three letters) is looked for among the few ids that end alike, not in a
/// scan of every job in memory (about 2 ms of the state's actor at 125,000 jobs, for every such lookup). Kept with
/// `jobs`: an id goes in when its job comes into memory and out when the job leaves it.
struct JobEnds {
    private var buckets: [UInt32: [JobID]] = [:]

    /// The last three bytes, packed; nil for a text shorter than that.
    static func key(_ bytes: some BidirectionalCollection<UInt8>) -> UInt32? {
        var key: UInt32 = 0
        var count = 0
        for byte in bytes.reversed() {
            key = key << 8 | UInt32(byte)
            count += 1
            if count == 3 { return key }
        }
        return nil
    }

    mutating func insert(_ id: JobID) {
        guard let key = Self.key(id.rawValue.utf8) else { return }
        buckets[key, default: []].append(id)
    }

    mutating func remove(_ id: JobID) {
        guard let key = Self.key(id.rawValue.utf8), var ids = buckets[key], let index = ids.firstIndex(of: id) else {
            return
        }
        ids.remove(at: index)
        buckets[key] = ids.isEmpty ? nil : ids
    }

    /// The ids that end with `end` and are longer than it, in the order they came into memory.
    func ids(endingWith end: [UInt8]) -> [JobID] {
        guard let key = Self.key(end) else { return [] }
        return (buckets[key] ?? []).filter { id in
            id.rawValue.utf8.count > end.count && id.rawValue.utf8.suffix(end.count).elementsEqual(end)
        }
    }

    /// How many ids it holds (`jobs.count`, when kept right).
    var count: Int { buckets.values.reduce(0) { $0 + $1.count } }
}
