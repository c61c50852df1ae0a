/// One node's GPU utilization over the recent past, from its heartbeats, in memory only: the mean percent of
/// each GPU per time bucket, oldest first, for the dashboard's history (the last hour) and the idle-GPU rule.
/// Bounded: at most `span / bucket` buckets, whatever the heartbeat rate.
public struct UtilizationHistory: Hashable, Sendable {
    public struct Bucket: Hashable, Sendable {
        /// The bucket's start, a multiple of the bucket length.
        public var start: Timestamp
        /// Per GPU index: the sum of the percents heard in the bucket, and how many.
        var sums: [Int: Int] = [:]
        var counts: [Int: Int] = [:]

        /// The mean percent of `gpu` in this bucket, nil when no heartbeat said.
        public func mean(gpu: Int) -> Double? {
            guard let count = counts[gpu], count > 0 else { return nil }
            return Double(sums[gpu] ?? 0) / Double(count)
        }
    }

    public let bucket: Duration
    public let span: Duration
    public private(set) var buckets: [Bucket] = []

    public init(bucket: Duration = .seconds(30), span: Duration = .seconds(3600)) {
        self.bucket = max(bucket, .milliseconds(100))
        self.span = max(span, self.bucket)
    }

    /// A heartbeat's figures: percent per GPU index (GPUs without a figure are left out).
    public mutating func record(at time: Timestamp, _ percents: [Int: Int]) {
        let length = max(bucket.milliseconds, 1)
        let start = Timestamp(milliseconds: time.milliseconds - time.milliseconds % length)
        if buckets.last?.start != start {
            // A clock step back lands in the last bucket rather than reordering the history.
            if let last = buckets.last, start < last.start {
                add(percents, to: buckets.count - 1)
                return
            }
            buckets.append(Bucket(start: start))
        }
        add(percents, to: buckets.count - 1)
        let oldest = Timestamp(milliseconds: time.milliseconds - span.milliseconds)
        if let first = buckets.firstIndex(where: { $0.start + bucket > oldest }), first > 0 {
            buckets.removeFirst(first)
        }
    }

    private mutating func add(_ percents: [Int: Int], to index: Int) {
        for (gpu, percent) in percents {
            buckets[index].sums[gpu, default: 0] += min(max(percent, 0), 100)
            buckets[index].counts[gpu, default: 0] += 1
        }
    }

    /// The GPU indices with at least one figure.
    public var gpus: [Int] { Set(buckets.flatMap(\.counts.keys)).sorted() }

    /// The mean of `gpus` over the buckets that start at or after `since`, and the time from the first bucket
    /// with a figure to the end of the last one (so a caller can tell "idle" from "not heard from"; buckets
    /// shorter than the heartbeat interval may have none in between). Nil when no figure.
    public func mean(gpus: [Int], since: Timestamp) -> (percent: Double, covered: Duration)? {
        var total = 0.0
        var samples = 0
        var first: Timestamp?
        var last: Timestamp?
        for bucket in buckets where bucket.start >= since {
            for gpu in gpus {
                guard let count = bucket.counts[gpu], count > 0 else { continue }
                total += Double(bucket.sums[gpu] ?? 0)
                samples += count
                first = first ?? bucket.start
                last = bucket.start
            }
        }
        guard samples > 0, let first, let last else { return nil }
        return (total / Double(samples), last + bucket - first)
    }
}
