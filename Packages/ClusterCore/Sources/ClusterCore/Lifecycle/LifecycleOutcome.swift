/// What the controller must carry out after a lifecycle decision. The lifecycle only says; the controller's
/// state actor does (and writes the job first: memory never runs ahead of disk).
public enum LifecycleEffect: Hashable, Sendable {
    /// Hold the resources of a new allocation.
    case hold(Allocation)
    /// Free an allocation's resources: its processes are gone or never started.
    case release(AllocationID)
    /// Ask the allocation's agent to stop its processes (SIGTERM, the grace, SIGKILL).
    case stop(AllocationID)
    /// The agent just showed it holds the allocation: its lease starts again.
    case renewLease(AllocationID)
    /// The agent's previous process had the launch and is gone: hand it out again (node liveness).
    case redeliver(AllocationID)
    /// Answer the node's waiting long polls now (a launch or a stop is there for it).
    case wake(NodeID)
    /// Something the scheduler reads changed (the queue, free resources, a dependency's state).
    case requestPass
}

/// Why a request cannot be carried out at all; nothing is stored. The API layer turns it into a status code.
public enum LifecycleRejection: Hashable, Sendable {
    /// The job already ended (SUCCEEDED, FAILED, or LOST with its retries spent).
    case alreadyFinished(JobState)
    /// Only a QUEUED job can be held or released (it is in this state).
    case notQueued(JobState)
    /// Only a placed job (ALLOCATED, STARTING, RUNNING) can be requeued.
    case notPlaced(JobState)
    /// Release of a job that is not held.
    case notHeld
    /// The requester may not do this; the message says why, for people.
    case notAllowed(String)
    /// The job is already being stopped for another reason (a cancel, its time limit): it will not come back.
    case alreadyStopping(String)
    /// The request itself is wrong (a value out of range); `field` names it.
    case invalid(field: String, String)
}

/// The result of one event: the job's next version, the records to append, the effects, and what to store.
public struct LifecycleOutcome: Hashable, Sendable {
    public enum Storage: Hashable, Sendable {
        /// Nothing changed (a repeated report, an event that no longer applies).
        case none
        /// Write the job and the records in the store, then keep them in memory.
        case durable
        /// Keep the job in memory only (live usage samples: a heartbeat writes nothing).
        case memoryOnly
    }

    public var job: Job
    /// The attempts (by number) this outcome changed, which the store writes with the job.
    public var touchedAttempts: Set<Int> = []
    public var records: [JobEventRecord] = []
    public var effects: [LifecycleEffect] = []
    /// True when the event moved the job to another state (an agent's report is answered `applied`).
    public var transitioned = false
    /// The job's spec changed (`corral update`): the store writes it too.
    public var specChanged = false
    public var storage: Storage = .none
    public var rejection: LifecycleRejection?

    public init(job: Job) { self.job = job }
}

/// The settings the lifecycle's rules read.
public struct LifecyclePolicy: Hashable, Sendable {
    /// Retries for failures that are not the job's fault (node lost, launch never accepted, fenced).
    public var infrastructureRetries: Int
    /// The wait before the first retry of a job's own failure; each further retry waits twice as long, at most
    /// `maxRetryBackoff` (as Kubernetes Jobs back off). Node faults are retried at once, elsewhere.
    public var retryBackoff: Duration
    public var maxRetryBackoff: Duration

    public init(
        infrastructureRetries: Int = 5,
        retryBackoff: Duration = .seconds(5),
        maxRetryBackoff: Duration = .seconds(300)
    ) {
        self.infrastructureRetries = infrastructureRetries
        self.retryBackoff = retryBackoff
        self.maxRetryBackoff = maxRetryBackoff
    }

    /// The wait before retry `number` (1 for the first).
    public func backoff(beforeRetry number: Int) -> Duration {
        var wait = retryBackoff
        for _ in 1..<max(number, 1) where wait < maxRetryBackoff { wait = wait * 2 }
        return min(wait, maxRetryBackoff)
    }
}

/// What the lifecycle reads besides the job: the time, the policy, and the live allocations of the job's
/// current attempt (one per rank still held; none when no resources are held for it).
public struct LifecycleContext: Hashable, Sendable {
    public var now: Timestamp
    public var policy: LifecyclePolicy
    /// Held allocations of the live attempt, by rank.
    public var allocations: [Int: Allocation]

    public init(now: Timestamp, policy: LifecyclePolicy = LifecyclePolicy(), allocation: Allocation? = nil) {
        self.init(now: now, policy: policy, allocations: allocation.map { [$0.id.rank: $0] } ?? [:])
    }

    public init(now: Timestamp, policy: LifecyclePolicy = LifecyclePolicy(), allocations: [Int: Allocation]) {
        self.now = now
        self.policy = policy
        self.allocations = allocations
    }

    /// Rank 0's allocation: a one-node job's only one.
    public var allocation: Allocation? { allocations[0] }
}
