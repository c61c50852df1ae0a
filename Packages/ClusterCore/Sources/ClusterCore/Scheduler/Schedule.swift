/// The scheduler's answer: where to place which job, why the others wait, which job holds the backfill
/// reservation, and which jobs can never run because a dependency failed.
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

    /// The first job in order that could not start: it will start on `node` at `start` at the latest
    /// (by the time limits of what runs there), and no backfilled job delays that.
    public struct Reservation: Hashable, Sendable {
        public let job: JobID
        public let node: NodeID
        public let start: Timestamp

        public init(job: JobID, node: NodeID, start: Timestamp) {
            self.job = job
            self.node = node
            self.start = start
        }
    }

    public var assignments: [Assignment]
    /// Exactly one reason for every pending job that was not assigned.
    public var pending: [JobID: PendingReason]
    public var reservation: Reservation?
    /// Job -> the dependency that finished for good without succeeding (FAILED, CANCELED, LOST). These jobs
    /// also have the reason `Dependency`; the controller fails them.
    public var failedDependencies: [JobID: JobID]

    public init(
        assignments: [Assignment] = [],
        pending: [JobID: PendingReason] = [:],
        reservation: Reservation? = nil,
        failedDependencies: [JobID: JobID] = [:]
    ) {
        self.assignments = assignments
        self.pending = pending
        self.reservation = reservation
        self.failedDependencies = failedDependencies
    }
}
