/// A point in wall-clock time: milliseconds since the Unix epoch. ClusterCore never reads the clock itself;
/// a `WallClock` is passed in (the apps use the system clock, tests a manual one).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static let zero = Timestamp(milliseconds: 0)

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(milliseconds: lhs.milliseconds + rhs.milliseconds)
    }

    public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration {
        .milliseconds(lhs.milliseconds - rhs.milliseconds)
    }

    public var description: String { "\(milliseconds)ms" }
}

extension Duration {
    /// Whole milliseconds, rounded toward zero.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Where "now" comes from. Inject it; never read the clock inside the domain.
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

/// A moment after which something is overdue (a lease, a long poll, a grace period).
public struct Deadline: Hashable, Comparable, Sendable {
    public let at: Timestamp
    public init(at: Timestamp) { self.at = at }
    public init(after duration: Duration, from now: Timestamp) { self.at = now + duration }

    public func hasPassed(at now: Timestamp) -> Bool { now >= at }
    public func remaining(at now: Timestamp) -> Duration { now >= at ? .zero : at - now }
    public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.at < rhs.at }
}

/// Exponential backoff with a cap and deterministic jitter taken from a caller's generator, so retries from
/// many agents do not arrive in lockstep and tests stay repeatable.
public struct Backoff: Hashable, Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Int
    /// Fraction of each delay (0...1) that is randomised away.
    public var jitter: Double

    public init(
        initial: Duration = .milliseconds(100),
        maximum: Duration = .seconds(10),
        multiplier: Int = 2,
        jitter: Double = 0.2
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before retry number `attempt` (0 for the first retry), without jitter.
    public func baseDelay(attempt: Int) -> Duration {
        var delay = initial.milliseconds
        let cap = maximum.milliseconds
        var step = 0
        // Doubling from 1 ms passes any cap within 64 steps; a multiplier of 1 or an initial 0 never grows.
        let steps = multiplier == 1 || delay <= 0 ? 0 : min(attempt, 64)
        while step < steps && delay < cap {
            delay = delay > cap / Int64(multiplier) ? cap : delay * Int64(multiplier)
            step += 1
        }
        return .milliseconds(min(delay, cap))
    }

    public func delay<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Duration {
        let base = baseDelay(attempt: max(0, attempt)).milliseconds
        let spread = Int64(Double(base) * jitter)
        guard spread > 0 else { return .milliseconds(base) }
        return .milliseconds(base - Int64.random(in: 0...spread, using: &generator))
    }
}
