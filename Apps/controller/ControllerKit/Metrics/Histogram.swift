/// A Prometheus histogram: cumulative counts per upper bound (`le`), plus the sum and count of what was
/// observed. Fixed buckets, chosen per family for what an SRE alerts on (a p95 queue wait over 30 min, a
/// scheduling pass over 100 ms).
struct Histogram: Hashable, Sendable {
    let bounds: [Double]
    /// Observations at or under each bound (not cumulative: rendering adds them up).
    private(set) var counts: [Int]
    private(set) var sum = 0.0
    private(set) var count = 0

    init(_ bounds: [Double]) {
        self.bounds = bounds.sorted()
        counts = Array(repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        guard value.isFinite else { return }
        if let index = bounds.firstIndex(where: { value <= $0 }) { counts[index] += 1 }
        sum += value
        count += 1
    }

    /// Seconds: from a second to a day, for queue waits and submit-to-running latency.
    static let waits: [Double] = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 86_400]
    /// Seconds: from half a millisecond to 2.5 s, for scheduling passes.
    static let passes: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    /// Seconds: HTTP requests, up to the long polls' 30 s.
    static let requests: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]
}

extension PrometheusText {
    /// `NAME_bucket{le=...}` (cumulative, `+Inf` last), `NAME_sum`, `NAME_count`.
    /// A histogram family told apart by one label, one histogram per key, keys sorted.
    mutating func histograms(_ name: String, _ help: String, by label: String, _ values: [String: Histogram]) {
        family(name, "histogram", help)
        for key in values.keys.sorted() { histogram(name, [label: key], values[key]!) }
    }

    mutating func histogram(_ name: String, _ labels: [String: String], _ histogram: Histogram) {
        var cumulative = 0
        for (bound, count) in zip(histogram.bounds, histogram.counts) {
            cumulative += count
            sample(name + "_bucket", labels.merging(["le": Self.number(bound)]) { a, _ in a }, cumulative)
        }
        sample(name + "_bucket", labels.merging(["le": "+Inf"]) { a, _ in a }, histogram.count)
        sample(name + "_sum", labels, histogram.sum)
        sample(name + "_count", labels, histogram.count)
    }

    /// A number as the format writes it: integers without a fraction, others as Swift prints them.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
