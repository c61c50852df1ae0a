/// The scheduler's settings: the queues and the time limit assumed for jobs that give none.
public struct SchedulingPolicy: Hashable, Sendable {
    public static let defaultQueueName = "default"

    /// By name. A `default` queue always exists.
    public private(set) var queues: [String: QueueConfig]
    /// Seconds: the time limit backfill assumes when neither the job nor its queue has one.
    public var defaultTimeLimit: Int
    /// Seconds a job must have run before it may be preempted (work that just started is not thrown away,
    /// and a job is not preempted over and over).
    public var preemptionMinRuntime: Int = 300
    /// Within a queue and job priority: fair share then submit time (`fairShare`, the default), or the shortest
    /// time limit first (`shortestFirst`), then fair share and submit time.
    public var ordering = Ordering.fairShare
    /// Among the nodes a job fits: best fit (`bestFit`), or first the node whose running jobs end latest, so
    /// that the job pushes no node's last end further out than it must (`endTime`), then best fit.
    public var placement = Placement.bestFit

    public enum Placement: String, Hashable, Sendable, CaseIterable {
        case bestFit = "best-fit"
        case endTime = "end-time"
    }

    /// Under `shortestFirst`: the node whose jobs end soonest takes no long job (limit over `drainAfter`)
    /// unless the job is protected, so one node is always close to empty for a large job.
    public var drainAfter: Int? = nil
    /// How many jobs that cannot start hold a backfill reservation at once: the first in order always (EASY
    /// backfill), then protected ones (under `shortestFirst`) up to this many, each on nodes the earlier ones
    /// do not hold.
    public var reservationDepth = 1

    /// The two policies a controller offers by name (`policy = ...` in controller.toml): `shortest-first`
    /// (the default since issue 15's replay: shortest time limit first, the oldest large job and the most
    /// stretched ones protected, end-time placement, one draining node) and `fair-share` (before it: fair
    /// share then submit time, best fit, EASY backfill).
    public mutating func use(_ name: String) -> Bool {
        switch name {
        case "shortest-first":
            (ordering, placement, drainAfter, reservationDepth) = (.shortestFirst, .endTime, 8 * 3600, 1)
        case "fair-share":
            (ordering, placement, drainAfter, reservationDepth) = (.fairShare, .bestFit, nil, 1)
        default:
            return false
        }
        return true
    }
    public static let names = ["shortest-first", "fair-share"]

    public enum Ordering: String, Hashable, Sendable, CaseIterable {
        case fairShare = "fair-share"
        case shortestFirst = "shortest-first"
    }

    public init(queues: [QueueConfig] = [], defaultTimeLimit: Int = 24 * 3600) {
        var byName: [String: QueueConfig] = [:]
        for queue in queues { byName[queue.name] = queue }
        if byName[Self.defaultQueueName] == nil {
            byName[Self.defaultQueueName] = QueueConfig(name: Self.defaultQueueName)
        }
        self.queues = byName
        self.defaultTimeLimit = max(1, defaultTimeLimit)
    }

    /// One `default` queue with no selector and no limits; one day for jobs without a time limit.
    public static let standard = SchedulingPolicy()

    /// The queue of that name. The controller refuses unknown queues at submit; should one get here anyway
    /// (a queue removed from the configuration), it gets the standard settings under its own name.
    public func queue(named name: String) -> QueueConfig {
        queues[name] ?? QueueConfig(name: name)
    }

    /// Adds or replaces a queue.
    public mutating func setQueue(_ queue: QueueConfig) {
        queues[queue.name] = queue
    }

    /// Seconds a job is expected to run at most: its own limit, else its queue's default, else the policy's.
    public func timeLimit(of spec: JobSpec) -> Int {
        spec.timeLimit ?? queue(named: spec.queue).defaultTimeLimit ?? defaultTimeLimit
    }
}
