/// Resources held on a node by a live allocation (ALLOCATED, STARTING, RUNNING, or stopping after a cancel
/// until the agent confirms the process is gone). The scheduler never gives these GPUs to anyone else.
///
/// The fields after `resources` are optional for callers that only know what is taken: without a user the
/// allocation counts toward no queue limit, and without an expected end backfill assumes it ends at
/// `allocatedAt` (else now) plus its queue's default time limit.
public struct HeldResources: Hashable, Sendable {
    public var node: NodeID
    public var gpuIndices: [Int]
    public var resources: Resources
    public var job: JobID?
    /// The owner, for per-user queue limits; nil counts toward none.
    public var user: String?
    public var queue: String
    public var allocatedAt: Timestamp?
    /// When it will have ended at the latest (start plus its time limit); nil when unknown.
    public var expectedEnd: Timestamp?
    /// When its process started (nil: not yet): preemption spares jobs that ran less than the minimum.
    public var startedAt: Timestamp?
    /// Asked to stop (canceled, preempted, past its time limit): about to free what it holds.
    public var stopping = false
    /// When it is stopping because a job preempted it: that job. What it frees is counted free for that
    /// preemptor only, so another cannot take the room a preemption made.
    public var stoppingFor: JobID?

    public init(
        node: NodeID,
        gpuIndices: [Int],
        resources: Resources,
        job: JobID? = nil,
        user: String? = nil,
        queue: String = SchedulingPolicy.defaultQueueName,
        allocatedAt: Timestamp? = nil,
        expectedEnd: Timestamp? = nil
    ) {
        self.node = node
        self.gpuIndices = gpuIndices
        self.resources = resources
        self.job = job
        self.user = user
        self.queue = queue
        self.allocatedAt = allocatedAt
        self.expectedEnd = expectedEnd
    }
}
