/// Where one rank of a gang job goes: a node and the GPUs it gets there.
public struct Placement: Hashable, Sendable {
    public var node: NodeID
    public var gpuIndices: [Int]

    public init(node: NodeID, gpuIndices: [Int]) {
        self.node = node
        self.gpuIndices = gpuIndices
    }
}

/// One rank of a gang job's attempt: where it runs, and how far it got. Each rank is an allocation of its
/// own (`AllocationID.rank`), launched, fenced and reported by its node's agent like a one-node job.
public struct RankRun: Hashable, Sendable {
    public var rank: Int
    public var node: NodeID
    public var gpuIndices: [Int]
    /// Its agent took the launch (the rank's STARTING report).
    public var accepted: Bool
    public var startedAt: Timestamp?
    /// Its processes are gone (reported, or surely gone without a report).
    public var endedAt: Timestamp?
    public var pid: Int32?
    public var exit: JobExit?
    /// How it ended, as its agent said; nil when it ended without a report (its node was lost, its launch was
    /// never taken).
    public var endKind: AttemptEnd.Kind?
    public var usage: ResourceUsage?

    public init(rank: Int, node: NodeID, gpuIndices: [Int]) {
        self.rank = rank
        self.node = node
        self.gpuIndices = gpuIndices
        self.accepted = false
    }

    public var isLive: Bool { endedAt == nil }

    /// Ended in a way that dooms its gang: anything but a clean exit 0.
    public var failed: Bool {
        guard endedAt != nil else { return false }
        return !(endKind == .exited && exit?.isSuccess == true)
    }
}

/// A task of a job array: which array, which index, and the array's shape. Each task is a job of its own
/// (`<array>_<index>`), with its own state, attempts and logs.
public struct ArrayTask: Hashable, Sendable {
    public var array: JobID
    public var index: Int
    /// Tasks in the array.
    public var count: Int
    /// At most this many of the array's tasks run at once; nil: no cap.
    public var limit: Int?

    public init(array: JobID, index: Int, count: Int, limit: Int? = nil) {
        self.array = array
        self.index = index
        self.count = count
        self.limit = limit
    }

    /// The task's job id: `<array>_<index>`, as Slurm names array tasks.
    public static func taskID(array: JobID, index: Int) -> JobID { JobID("\(array.rawValue)_\(index)") }
}

extension Attempt {
    /// A gang attempt has one run per rank; a one-node attempt has none (its fields are the run).
    public var isGang: Bool { !ranks.isEmpty }

    /// The allocation ids of the attempt, one per rank.
    public func allocationIDs(of job: JobID) -> [AllocationID] {
        isGang
            ? ranks.map { AllocationID(job: job, attempt: number, rank: $0.rank) }
            : [AllocationID(job: job, attempt: number)]
    }

    /// The ranks whose processes may still run (all of them for a one-node attempt that has not ended).
    public func liveAllocationIDs(of job: JobID) -> [AllocationID] {
        guard isGang else { return endedAt == nil ? [AllocationID(job: job, attempt: number)] : [] }
        return ranks.filter(\.isLive).map { AllocationID(job: job, attempt: number, rank: $0.rank) }
    }

    /// The node of a rank (rank 0 of a one-node attempt is its node).
    public func node(ofRank rank: Int) -> NodeID? {
        guard isGang else { return rank == 0 ? node : nil }
        return ranks.first { $0.rank == rank }?.node
    }

    /// The GPUs of a rank.
    public func gpuIndices(ofRank rank: Int) -> [Int] {
        guard isGang else { return rank == 0 ? gpuIndices : [] }
        return ranks.first { $0.rank == rank }?.gpuIndices ?? []
    }
}
