import ClusterCore
import CorralSupport
import LinuxSystem

/// The agent's lease file: when the agent last heard from the controller (CLOCK_MONOTONIC, which wall-clock
/// steps do not move and which every process of the machine shares) and how long that renewal lasts.
enum LeaseFile {
    /// Returns whether the file now holds this renewal (a failed write leaves the one before, lease and all).
    @discardableResult
    static func renew(_ path: String, lease: Duration, renewedAt: Int64 = Monotonic.nanoseconds()) -> Bool {
        (try? Files.writeAtomically(path, "\(renewedAt) \(lease.milliseconds)\n", mode: 0o600, durable: false)) != nil
    }

    /// When the supervisor must start stopping a job so that it is dead before the controller's lease ends
    /// (the controller may then start it elsewhere): the grace it gets (at most a quarter of the lease) and a
    /// margin (a tenth of the lease, 250 ms of polling included) come off the lease. Nil without a lease.
    static func fenceDeadline(_ path: String, grace: Int) -> (at: Int64, grace: Int64)? {
        guard let (renewedAt, milliseconds) = read(path) else { return nil }
        let lease = milliseconds * 1_000_000
        let fenceGrace = min(Int64(grace) * 1_000_000_000, lease / 4)
        return (renewedAt + lease - fenceGrace - lease / 10, fenceGrace)
    }

    /// Whether a job started now would run at least `margin` before its supervisor fences it: a launch that
    /// arrives right after a network cut waits for the renewal that the next heartbeat brings.
    static func isFresh(_ path: String, grace: Int, margin: Duration) -> Bool {
        guard let deadline = fenceDeadline(path, grace: grace) else { return true }
        return deadline.at - Monotonic.nanoseconds() > Int64(margin.milliseconds) * 1_000_000
    }

    /// The lease the file holds now (what the agent tells the controller it holds), nil without one.
    static func lease(_ path: String) -> Duration? {
        read(path).map { .milliseconds($0.milliseconds) }
    }

    private static func read(_ path: String) -> (renewedAt: Int64, milliseconds: Int64)? {
        guard let text = try? Files.read(path, limit: 128) else { return nil }
        let fields = text.split(separator: " ").compactMap { Int64(String($0).trimmingWhitespace()) }
        guard fields.count == 2, fields[1] > 0 else { return nil }
        return (fields[0], fields[1])
    }
}
