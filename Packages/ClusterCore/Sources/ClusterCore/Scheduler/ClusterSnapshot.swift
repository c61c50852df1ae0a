/// Everything one scheduling pass reads: a value, so the pass is a pure function of it.
public struct ClusterSnapshot: Sendable {
    /// QUEUED jobs, in any order.
    public var pending: [Job]
    /// Every known node, in any order.
    public var nodes: [Node]
    /// Resources held by live allocations.
    public var held: [HeldResources]
    /// The states of other jobs, for `depends_on`; a missing job counts as not finished yet.
    public var jobStates: [JobID: JobState]
    public var usage: FairShareUsage
    /// Placed tasks of each job array (by array id), for `%limit`.
    public var runningArrayTasks: [JobID: Int]
    public var now: Timestamp

    public init(
        pending: [Job],
        nodes: [Node],
        held: [HeldResources] = [],
        jobStates: [JobID: JobState] = [:],
        usage: FairShareUsage = FairShareUsage(),
        runningArrayTasks: [JobID: Int] = [:],
        now: Timestamp
    ) {
        self.pending = pending
        self.nodes = nodes
        self.held = held
        self.jobStates = jobStates
        self.usage = usage
        self.runningArrayTasks = runningArrayTasks
        self.now = now
    }
}
