import FoundationEssentials

/// One measured figure of `just bench`: the median of several runs with the min and max, and notes saying how
/// it was measured. Printed as one JSON object per line so that a driver can collect and tabulate them.
public struct Figure: Codable, Sendable, Equatable {
    public var name: String
    public var unit: String
    public var median: Double
    public var min: Double
    public var max: Double
    public var runs: Int
    public var notes: String
    /// Secondary numbers of the same measurement (p90, errors, CPU use...), by name.
    public var extra: [String: Double]

    public init(name: String, unit: String, samples: [Double], notes: String, extra: [String: Double] = [:]) {
        let stats = Stats(samples)
        self.name = name
        self.unit = unit
        median = rounded(stats.median)
        min = rounded(stats.min)
        max = rounded(stats.max)
        runs = samples.count
        self.notes = notes
        self.extra = extra
    }

    /// The figure as one line of JSON (keys sorted, so the output is stable).
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Median, minimum, maximum and percentiles of a sample; all zero for an empty one.
public struct Stats: Sendable, Equatable {
    public let sorted: [Double]

    public init(_ samples: [Double]) { sorted = samples.filter { $0.isFinite }.sorted() }

    public var min: Double { sorted.first ?? 0 }
    public var max: Double { sorted.last ?? 0 }
    public var median: Double {
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The nearest-rank percentile (`p` from 0 to 100).
    public func percentile(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// Rounds for display and JSON: three significant decimals are all a benchmark can honestly claim.
func rounded(_ value: Double, _ places: Int = 3) -> Double {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    return (value * scale).rounded() / scale
}
