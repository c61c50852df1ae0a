/// An allocation whose resources are held on a node: from the scheduler's placement until its processes are
/// known to be gone (the agent reported the end, its lease ran out on a lost node, the node rebooted) or until
/// it is known never to have started (canceled or requeued before the agent took it). The scheduler sees all
/// of these as taken, so a GPU is never given to a new job while a dying one may still use it.
public struct Allocation: Hashable, Sendable {
    public let id: AllocationID
    public let node: NodeID
    public let gpuIndices: [Int]
    public let resources: Resources
    public let allocatedAt: Timestamp
    /// The launch was handed to the agent (by a long poll).
    public var delivered: Bool
    /// When the controller asked the agent to stop it (cancel, time limit, a superseded copy), if it did.
    public var stopRequestedAt: Timestamp?
    /// The stop request went out in a long-poll answer (heartbeat answers always repeat it).
    public var stopDelivered: Bool
    /// The last time the agent showed it still holds this allocation (delivery, a report, a heartbeat listing
    /// it). A job on a silent node is retried elsewhere only once this is older than the lease its agent holds:
    /// by then the agent has fenced it (stopped it itself), so two copies never run at once.
    public var leaseRenewedAt: Timestamp

    public init(
        id: AllocationID,
        node: NodeID,
        gpuIndices: [Int],
        resources: Resources,
        allocatedAt: Timestamp,
        delivered: Bool = false,
        stopRequestedAt: Timestamp? = nil,
        stopDelivered: Bool = false,
        leaseRenewedAt: Timestamp
    ) {
        self.id = id
        self.node = node
        self.gpuIndices = gpuIndices
        self.resources = resources
        self.allocatedAt = allocatedAt
        self.delivered = delivered
        self.stopRequestedAt = stopRequestedAt
        self.stopDelivered = stopDelivered
        self.leaseRenewedAt = leaseRenewedAt
    }

    /// The allocation of a job's attempt (of one rank of a gang's), as placed.
    public init(of job: JobID, _ attempt: Attempt, rank: Int = 0) {
        self.init(
            id: AllocationID(job: job, attempt: attempt.number, rank: rank),
            node: attempt.node(ofRank: rank) ?? attempt.node,
            gpuIndices: attempt.gpuIndices(ofRank: rank),
            resources: attempt.resources,
            allocatedAt: attempt.allocatedAt,
            leaseRenewedAt: attempt.allocatedAt
        )
    }

    public var isStopping: Bool { stopRequestedAt != nil }
}
