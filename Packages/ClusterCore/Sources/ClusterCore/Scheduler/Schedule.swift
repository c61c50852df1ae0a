/// The scheduler's answer: where to place which job, why the others wait, which jobs hold backfill
/// reservations, and which jobs can never run because a dependency failed.
public struct Schedule: Hashable, Sendable {
    public struct Assignment: Hashable, Sendable {
        public let job: JobID
        public let node: NodeID
        public let gpuIndices: [Int]

        public init(job: JobID, node: NodeID, gpuIndices: [Int]) {
            self.job = job
            self.node = node
            self.gpuIndices = gpuIndices
        }
    }

    /// A gang placed whole: rank r on `ranks[r]`.
    public struct GangAssignment: Hashable, Sendable {
        public let job: JobID
        public let ranks: [Placement]
        /// The topology label value all ranks share, when the queue asks for one and they do.
        public let topology: String?

        public init(job: JobID, ranks: [Placement], topology: String? = nil) {
            self.job = job
            self.ranks = ranks
            self.topology = topology
        }
    }

    /// A job that could not start: it will start on `node` at `start` at the latest (by the time limits of
    /// what runs there), and no backfilled job delays that.
    public struct Reservation: Hashable, Sendable {
        public let job: JobID
        /// The first reserved node (a gang's reservation holds one node per rank: `nodes`).
        public let node: NodeID
        public let nodes: [NodeID]
        public let start: Timestamp

        public init(job: JobID, node: NodeID, start: Timestamp, nodes: [NodeID]? = nil) {
            self.job = job
            self.node = node
            self.nodes = nodes ?? [node]
            self.start = start
        }
    }

    /// A job of a higher tier that cannot start until these lower-tier jobs are stopped (and requeued).
    public struct Preemption: Hashable, Sendable {
        public let job: JobID
        public let victims: [JobID]
        /// The node it will start on once they are gone (a gang's: the first of its nodes).
        public let node: NodeID

        public init(job: JobID, victims: [JobID], node: NodeID) {
            self.job = job
            self.victims = victims
            self.node = node
        }
    }

    public var assignments: [Assignment]
    /// Jobs to preempt, for which job (their reason is `Preempting`).
    public var preemptions: [Preemption] = []
    public var gangAssignments: [GangAssignment]
    /// Exactly one reason for every pending job that was not assigned.
    public var pending: [JobID: PendingReason]
    /// The backfill reservations, in order: the first job that could not start, then (under a policy with
    /// `reservationDepth` above 1) protected jobs that could not start either.
    public var reservations: [Reservation]
    /// The first reservation.
    public var reservation: Reservation? { reservations.first }
    /// Job -> the dependency that finished for good without succeeding (FAILED, CANCELED, LOST). These jobs
    /// also have the reason `Dependency`; the controller fails them.
    public var failedDependencies: [JobID: JobID]

    public init(
        assignments: [Assignment] = [],
        gangAssignments: [GangAssignment] = [],
        pending: [JobID: PendingReason] = [:],
        reservation: Reservation? = nil,
        failedDependencies: [JobID: JobID] = [:]
    ) {
        self.assignments = assignments
        self.gangAssignments = gangAssignments
        self.pending = pending
        self.reservations = reservation.map { [$0] } ?? []
        self.failedDependencies = failedDependencies
    }
}
