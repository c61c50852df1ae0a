/// Best fit for one class of jobs (same gpu_type, labels and queue selector): the nodes that could ever run
/// such a job, bucketed by how many GPUs of the wanted type they have free, each bucket sorted by free CPUs
/// then node order. Best fit is then a lookup: the first bucket with at least the wanted GPUs that holds a
/// node with enough CPUs and memory, and in it the node with the fewest free CPUs, ties by node id.
struct FitIndex {
    let requirement: Requirement
    /// By node ordinal: the healthy GPUs of the wanted type (empty for nodes outside the class).
    var usable: [GPUMask]
    var eligible: [Bool]
    /// By node ordinal: the node's CPUs and memory, for gangs counting the nodes that could take a rank.
    var nodeCPUs: [Int]
    var nodeMemory: [Int64]
    /// The distinct capacities (usable GPUs, CPUs, memory) of the class's nodes, to answer "could it ever fit".
    var hardware: [Resources]
    /// buckets[k]: keys of the nodes with k usable GPUs free, ascending (free CPUs, then ordinal).
    var buckets: [[UInt64]]

    init(requirement: Requirement, queueName: String, views: [NodeView], free: FreeState, names: inout NameCache) {
        let fit = StaticFit(requirement: requirement, queueName: queueName, views: views, names: &names)
        self.init(requirement: requirement, fit: fit, free: free)
    }

    /// From the class's static part (`StaticFit`, kept across passes by `PreparedNodes`) and this pass's
    /// free state.
    init(requirement: Requirement, fit: StaticFit, free: FreeState) {
        self.requirement = requirement
        usable = fit.usable
        eligible = fit.eligible
        nodeCPUs = fit.nodeCPUs
        nodeMemory = fit.nodeMemory
        hardware = fit.hardware
        buckets = Array(repeating: [], count: fit.maxUsable + 1)
        for ordinal in 0..<eligible.count where eligible[ordinal] {
            buckets[freeCount(ordinal, free)].append(Self.key(cpus: free.cpus[ordinal], ordinal: ordinal))
        }
        for k in buckets.indices { buckets[k].sort() }
    }

    static func key(cpus: Int, ordinal: Int) -> UInt64 {
        UInt64(min(max(cpus, 0), Int(Int32.max))) << 32 | UInt64(ordinal)
    }

    func freeCount(_ ordinal: Int, _ free: FreeState) -> Int {
        usable[ordinal].subtracting(free.taken[ordinal]).count
    }

    /// Whether some node of the class could run the request when empty.
    func couldEverFit(_ request: Resources) -> Bool {
        hardware.contains { request.gpus <= $0.gpus && request.cpus <= $0.cpus && request.memory <= $0.memory }
    }

    /// The best-fit node for the request in the current free state, skipping `excluded`. A job without GPUs
    /// is spread instead (`spreadFit`).
    func bestFit(_ request: Resources, free: FreeState, excluding excluded: (Int) -> Bool = { _ in false }) -> Int? {
        if request.gpus <= 0 { return spreadFit(request, free: free, excluding: excluded) }
        let first = max(request.gpus, 0)
        guard first < buckets.count else { return nil }
        let lowest = Self.key(cpus: request.cpus, ordinal: 0)
        for k in first..<buckets.count {
            let bucket = buckets[k]
            if bucket.isEmpty { continue }
            var position = Self.lowerBound(bucket, lowest)
            while position < bucket.count {
                let ordinal = Int(bucket[position] & 0xFFFF_FFFF)
                position += 1
                if excluded(ordinal) { continue }
                if free.cpus[ordinal] >= request.cpus && free.memory[ordinal] >= request.memory { return ordinal }
            }
        }
        return nil
    }

    /// For a job without GPUs (issue 16): the node with the fewest free GPUs (a CPU-only node, or one whose
    /// GPUs are all taken, before a node whose free GPUs GPU jobs need), and among those the one with the most
    /// free CPUs, ties by node order: CPU-only work spreads over an idle fleet instead of piling onto its
    /// first node, while GPU jobs still pack (best fit keeps whole nodes for big jobs).
    func spreadFit(_ request: Resources, free: FreeState, excluding excluded: (Int) -> Bool) -> Int? {
        let lowest = Self.key(cpus: request.cpus, ordinal: 0)
        for bucket in buckets where !bucket.isEmpty {
            let first = Self.lowerBound(bucket, lowest)
            var position = bucket.count
            var best: Int?
            // Most free CPUs first; among equals (one run of keys), the lowest ordinal.
            while position > first {
                position -= 1
                let ordinal = Int(bucket[position] & 0xFFFF_FFFF)
                if let chosen = best, free.cpus[ordinal] < free.cpus[chosen] { break }
                if excluded(ordinal) || free.memory[ordinal] < request.memory { continue }
                best = ordinal
            }
            if let best { return best }
        }
        return nil
    }

    /// Moves a node between buckets after its free state changed from `before` to `after`.
    mutating func update(_ ordinal: Int, before: FreeState.Entry, after: FreeState.Entry) {
        guard eligible[ordinal] else { return }
        let oldBucket = usable[ordinal].subtracting(before.taken).count
        let oldKey = Self.key(cpus: before.cpus, ordinal: ordinal)
        let oldPosition = Self.lowerBound(buckets[oldBucket], oldKey)
        if oldPosition < buckets[oldBucket].count && buckets[oldBucket][oldPosition] == oldKey {
            buckets[oldBucket].remove(at: oldPosition)
        }
        let newBucket = usable[ordinal].subtracting(after.taken).count
        let newKey = Self.key(cpus: after.cpus, ordinal: ordinal)
        buckets[newBucket].insert(newKey, at: Self.lowerBound(buckets[newBucket], newKey))
    }

    static func lowerBound(_ keys: [UInt64], _ key: UInt64) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// What is free on every node during a pass, by node ordinal (the node's rank by id).
struct FreeState {
    struct Entry {
        var taken: GPUMask
        var cpus: Int
        var memory: Int64
    }

    var taken: [GPUMask]
    var cpus: [Int]
    var memory: [Int64]

    subscript(ordinal: Int) -> Entry {
        Entry(taken: taken[ordinal], cpus: cpus[ordinal], memory: memory[ordinal])
    }
}
