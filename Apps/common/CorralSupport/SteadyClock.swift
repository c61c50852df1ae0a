public import ClusterCore
import Glibc

/// The controller's clock: the wall clock read once, at start, then advanced by the monotonic clock. A step
/// of the system clock (`date -s`, a VM resumed from a snapshot, a first NTP sync) does not move it, so no
/// node seems silent for an hour and no lease seems run out because the clock jumped; that would run a job
/// again while it still runs (issue 18, the clock jump of the fault suite). NTP's slewing moves both clocks
/// alike. The price: after a step, the times the controller records are off by the step until it restarts,
/// and it says so in its log (`drift`).
public struct SteadyClock: WallClock {
    private let base: any WallClock
    private let start: Timestamp
    private let startNanoseconds: Int64

    public init(base: any WallClock = SystemClock()) {
        self.base = base
        start = base.now()
        startNanoseconds = Self.monotonicNanoseconds()
    }

    public func now() -> Timestamp {
        Timestamp(milliseconds: start.milliseconds + (Self.monotonicNanoseconds() - startNanoseconds) / 1_000_000)
    }

    /// How far the system clock has stepped away from this one since the start (positive: it is ahead).
    public func drift() -> Duration { base.now() - now() }

    static func monotonicNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// A system clock shifted by the milliseconds written in a file: the fault suite's way to step the clock of
/// one process without touching the machine's (`CORRAL_TEST_CLOCK_SKEW_FILE`, read by the controller only
/// when that variable is set). A missing or unreadable file is no shift.
public struct SkewedClock: WallClock {
    let path: String
    public init(path: String) { self.path = path }

    public func now() -> Timestamp {
        let text = (try? Files.read(path, limit: 64)) ?? ""
        return SystemClock().now() + .milliseconds(Int64(text.trimmingWhitespace()) ?? 0)
    }

    /// The clock the environment asks for: skewed when CORRAL_TEST_CLOCK_SKEW_FILE is set, else the system's.
    public static func fromEnvironment() -> any WallClock {
        guard let path = getenv("CORRAL_TEST_CLOCK_SKEW_FILE").map({ String(cString: $0) }), !path.isEmpty else {
            return SystemClock()
        }
        return SkewedClock(path: path)
    }
}
