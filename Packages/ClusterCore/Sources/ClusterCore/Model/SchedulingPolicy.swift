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
