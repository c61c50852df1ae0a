/// A queue of the cluster, from the controller's configuration: how its jobs rank against other queues'
/// jobs, which nodes they may use, and how many GPUs one user may hold through it at once.
public struct QueueConfig: Hashable, Sendable {
    public var name: String
    /// Higher first: every job of a higher-priority queue is considered before any job of a lower one.
    public var priority: Int
    /// Labels a node must carry for this queue's jobs (on top of each job's own labels).
    public var nodeSelector: [String: String]
    /// At most this many GPUs held at once by one user's jobs in this queue; nil means no limit.
    public var maxRunningGPUsPerUser: Int?
    /// Seconds: the time limit assumed by backfill for this queue's jobs that have none.
    public var defaultTimeLimit: Int?
    /// A node label (`rack`, `fabric`) that gang jobs should keep to: their ranks go to nodes sharing one value
    /// of it when enough such nodes are free. Nil: any nodes.
    public var topologyLabel: String?
    /// Its running jobs may be preempted for jobs of a queue of higher priority (the priority is the tier):
    /// stopped, and put back in the queue at their place, their retries untouched.
    public var preemptible: Bool
    /// The highest job priority a user may ask for in this queue (at submission or with `corral update`); admins
    /// may set any. 0 by default: users may lower their jobs' priority, not raise it over others' (the fair
    /// share decides among users).
    public var maxPriority: Int = 0
    /// Seconds: a job of this queue flagged idle (its GPUs under the idle threshold for the idle window) is
    /// warned in its event log, and canceled once it has stayed idle this much longer. Nil: only flagged.
    public var idleCancelAfter: Int?

    public init(
        name: String,
        priority: Int = 0,
        nodeSelector: [String: String] = [:],
        maxRunningGPUsPerUser: Int? = nil,
        defaultTimeLimit: Int? = nil,
        topologyLabel: String? = nil,
        preemptible: Bool = false
    ) {
        self.name = name
        self.priority = priority
        self.nodeSelector = nodeSelector
        self.maxRunningGPUsPerUser = maxRunningGPUsPerUser
        self.defaultTimeLimit = defaultTimeLimit
        self.topologyLabel = topologyLabel
        self.preemptible = preemptible
    }
}
