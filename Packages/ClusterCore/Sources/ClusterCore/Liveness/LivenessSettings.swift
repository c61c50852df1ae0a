/// The timing rules of node liveness: how long a node may be silent, how long a launch may wait for its agent,
/// how long an allocation lease lasts, and how often agents report.
public struct LivenessSettings: Hashable, Sendable {
    /// A node silent for this long is lost.
    public var nodeTimeout: Duration
    /// A launch the agent has not taken within this long goes back to the queue.
    public var launchLease: Duration
    /// How long an agent that cannot reach the controller keeps its jobs before it stops them (fencing).
    public var allocationLease: Duration
    public var heartbeatInterval: Duration

    public init(
        nodeTimeout: Duration = .seconds(30),
        launchLease: Duration = .seconds(30),
        allocationLease: Duration = .seconds(120),
        heartbeatInterval: Duration = .seconds(5)
    ) {
        self.nodeTimeout = nodeTimeout
        self.launchLease = launchLease
        self.allocationLease = allocationLease
        self.heartbeatInterval = heartbeatInterval
    }

    /// A lease must span this many heartbeat intervals: an agent fences its jobs some way before its lease ends
    /// (see the agent's lease file), so a shorter lease would stop every job at the first late heartbeat, and
    /// the retry would be fenced again, in a loop.
    public static let minimumLeaseIntervals: Int64 = 4

    /// Why these settings cannot work together, or nil when they can.
    public var problem: String? {
        let minimum = heartbeatInterval * Self.minimumLeaseIntervals
        guard allocationLease >= minimum else {
            return "the allocation lease (\(Self.seconds(allocationLease)) s) must be at least "
                + "\(Self.minimumLeaseIntervals) heartbeat intervals (\(Self.seconds(minimum)) s with a heartbeat "
                + "every \(Self.seconds(heartbeatInterval)) s): agents stop their jobs shortly before the lease ends, "
                + "so a shorter one would stop and restart every job after one late heartbeat"
        }
        return nil
    }

    /// A stop asked of an agent counts as carried out when its heartbeats have stopped listing the allocation
    /// for this long (a heartbeat built before the stop may still list it, one built before the launch may not).
    public var stopGrace: Duration { heartbeatInterval * 2 }

    private static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }
}

extension Duration {
    /// The lease an agent may hold: the longer of what it said it holds and what the controller tells it now.
    /// An agent writes the lease of each answer it gets, so until it reports otherwise it may hold either.
    public static func agentLease(reported: Duration?, told: Duration) -> Duration {
        max(reported ?? .zero, told)
    }
}
