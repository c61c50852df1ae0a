/// Recent GPU use per user, decaying with a half-life: what the scheduler's fair-share order reads. A pure
/// value: the controller records each allocation's GPU-seconds when it ends (or periodically while it runs)
/// and hands a copy to every pass.
public struct FairShareUsage: Hashable, Sendable {
    struct Entry: Hashable, Sendable {
        var value: Double
        var at: Timestamp
    }

    /// Usage recorded this long ago counts half.
    public var halfLife: Duration
    var entries: [String: Entry] = [:]

    public init(halfLife: Duration = .seconds(24 * 3600)) {
        self.halfLife = halfLife
    }

    /// Adds `gpuSeconds` of use by `user` at time `at` (earlier usage decays first).
    public mutating func record(user: String, gpuSeconds: Double, at: Timestamp) {
        guard gpuSeconds.isFinite, gpuSeconds > 0 else { return }
        guard var entry = entries[user] else {
            entries[user] = Entry(value: gpuSeconds, at: at)
            return
        }
        if at >= entry.at {
            entry.value = decayed(entry.value, over: at - entry.at) + gpuSeconds
            entry.at = at
        } else {
            // Recorded late: decay the new amount to the entry's time instead.
            entry.value += decayed(gpuSeconds, over: entry.at - at)
        }
        entries[user] = entry
    }

    /// The user's decayed GPU-seconds as of `at` (0 for a user never seen).
    public func value(for user: String, at: Timestamp) -> Double {
        guard let entry = entries[user] else { return 0 }
        return at > entry.at ? decayed(entry.value, over: at - entry.at) : entry.value
    }

    /// The users with recorded usage.
    public var users: [String] { entries.keys.sorted() }

    func decayed(_ value: Double, over elapsed: Duration) -> Double {
        let halfLifeMs = halfLife.milliseconds
        guard halfLifeMs > 0 else { return 0 }
        return value * Self.exp2(-Double(elapsed.milliseconds) / Double(halfLifeMs))
    }

    /// 2^x without Foundation: split into an integer power (exact) and 2^f for f in [0, 1), computed as
    /// e^(f ln 2) by its series, which is exact to a few ulps there.
    static func exp2(_ x: Double) -> Double {
        guard x.isFinite else { return x > 0 ? .infinity : 0 }
        if x < -1100 { return 0 }
        if x > 1000 { return .infinity }
        // Int(_:) truncates toward zero; step down for negative fractions (no libm `floor` here).
        var whole = Double(Int(x))
        if whole > x { whole -= 1 }
        let y = (x - whole) * 0.693_147_180_559_945_309_4
        var term = 1.0
        var sum = 1.0
        for n in 1...24 {
            term *= y / Double(n)
            sum += term
        }
        return sum * Double(sign: .plus, exponent: Int(whole), significand: 1)
    }
}
