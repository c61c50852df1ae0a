/// What node liveness asks the controller to do. Job events go through `JobLifecycle`; allocation effects are
/// the lifecycle's own, carried out the same way.
public enum LivenessAction: Hashable, Sendable {
    /// The node has been silent past the node timeout.
    case markLost(NodeID)
    /// Many nodes went silent at once: more likely the controller's own network, so none is marked lost.
    case suspectSelf(silent: Int, alive: Int)
    /// An event for the job's lifecycle.
    case job(JobID, LifecycleEvent)
    /// An effect on an allocation (renew its lease, stop it, hand it out again, release it).
    case effect(LifecycleEffect)
}

/// What liveness reads: a value, so each rule is a pure function of it.
public struct LivenessView: Sendable {
    public var nodes: [NodeID: Node]
    public var allocations: [AllocationID: Allocation]
    public var jobs: [JobID: Job]
    public var settings: LivenessSettings
    /// When this controller started: every node gets one lease of grace before it can be judged lost.
    public var startedAt: Timestamp
    public var now: Timestamp

    public init(
        nodes: [NodeID: Node],
        allocations: [AllocationID: Allocation],
        jobs: [JobID: Job],
        settings: LivenessSettings,
        startedAt: Timestamp,
        now: Timestamp
    ) {
        self.nodes = nodes
        self.allocations = allocations
        self.jobs = jobs
        self.settings = settings
        self.startedAt = startedAt
        self.now = now
    }

    /// The lease that protects the node's allocations: the controller's own, or the longer one its agent may
    /// still hold (learnt from an earlier controller). A job is never retried before that has run out.
    public func lease(on node: NodeID) -> Duration {
        max(settings.allocationLease, nodes[node]?.agentLease ?? .zero)
    }

    /// The job owning the allocation, when the allocation is that job's live attempt.
    func liveJob(_ id: AllocationID) -> Job? {
        guard let job = jobs[id.job], job.liveAttempt?.number == id.attempt else { return nil }
        return job
    }
}
