/// A job as the controller knows it: its spec, its owner, its state and the attempts made to run it.
public struct Job: Hashable, Sendable {
    public let id: JobID
    public var spec: JobSpec
    public var user: String
    /// The Unix account its processes run as on the nodes, decided at submission from the user's mapping;
    /// nil for jobs from before accounts were mapped (they ran as the agent's account).
    public var unixUser: String?
    public var state: JobState
    /// Why the job waits, while it is QUEUED.
    public var pendingReason: PendingReason?
    public var submittedAt: Timestamp
    public var updatedAt: Timestamp
    /// The attempts so far, oldest first; the last one is current. Empty until first placed.
    public var attempts: [Attempt]
    /// Retries used from the job's own budget (`spec.maxRetries`).
    public var retriesUsed: Int
    /// Retries used from the infrastructure budget (node lost, lease expired).
    public var infraRetriesUsed: Int
    /// The last reason given for a state change, for people.
    public var message: String?
    /// Set while the controller waits for a placed job's processes to stop (cancel, time limit); cleared when
    /// a new attempt starts.
    public var stopRequest: StopRequest?
    /// Set for a task of a job array.
    public var array: ArrayTask?
    /// A job retried after a failure of its own waits until then (exponential backoff), so a job that fails at
    /// once does not spin through its retries in milliseconds.
    public var notBefore: Timestamp?
    /// How often it was preempted and put back in the queue (spends neither retry budget).
    public var preemptions: Int = 0
    /// Set while the job is held (`corral hold`): QUEUED, passed over by the scheduler until released.
    public var hold: JobHold?
    /// Set while the job is RUNNING and its GPUs are idle (`IdleGPUs`); memory only, never stored.
    public var idle: IdleMark?

    public init(id: JobID, spec: JobSpec, user: String, submittedAt: Timestamp) {
        self.id = id
        self.spec = spec
        self.user = user
        self.state = .queued
        self.pendingReason = .resources
        self.submittedAt = submittedAt
        self.updatedAt = submittedAt
        self.attempts = []
        self.retriesUsed = 0
        self.infraRetriesUsed = 0
        self.message = nil
        self.stopRequest = nil
        self.array = nil
        self.notBefore = nil
    }

    public var currentAttempt: Attempt? { attempts.last }

    /// The attempt whose processes may still be running or about to: the last one, not yet ended.
    public var liveAttempt: Attempt? {
        guard let last = attempts.last, last.endedAt == nil else { return nil }
        return last
    }
    public var allocationID: AllocationID? { currentAttempt.map { AllocationID(job: id, attempt: $0.number) } }

    /// Whether this change ended a LOST job for good: its processes surely gone and no retry (its node-fault
    /// budget spent, or it was lost while being stopped at its time limit). LOST has no edge that says so.
    public static func endedLost(before: Job, after: Job) -> Bool {
        before.state == .lost && after.state == .lost && before.attempts.last?.endedAt == nil
            && after.attempts.last?.endedAt != nil
    }

    /// The allocations of the live attempt whose processes may still run, one per live rank.
    public var liveAllocationIDs: [AllocationID] { liveAttempt?.liveAllocationIDs(of: id) ?? [] }
}

/// One try at running a job: where, on which GPUs, and how it ended.
public struct Attempt: Hashable, Sendable {
    public var number: Int
    public var node: NodeID
    public var gpuIndices: [Int]
    public var resources: Resources
    public var allocatedAt: Timestamp
    public var startedAt: Timestamp?
    public var endedAt: Timestamp?
    public var pid: Int32?
    public var exit: JobExit?
    /// The state this attempt ended in, once ended.
    public var finalState: JobState?
    /// What its processes used: the latest sample while it runs, the final account once it ended.
    public var usage: ResourceUsage?
    /// A gang's ranks, rank 0 first (`node` and `gpuIndices` are rank 0's); empty for a one-node attempt.
    public var ranks: [RankRun] = []
    /// The port rank 0 listens on for its gang's rendezvous (`MASTER_PORT`).
    public var masterPort: Int?
    /// The rank whose end doomed the gang (the others were stopped because of it).
    public var failedRank: Int?
    /// The job of a higher tier this attempt was stopped for.
    public var preemptedBy: JobID?

    public init(number: Int, node: NodeID, gpuIndices: [Int], resources: Resources, allocatedAt: Timestamp) {
        self.number = number
        self.node = node
        self.gpuIndices = gpuIndices
        self.resources = resources
        self.allocatedAt = allocatedAt
    }

    /// A gang attempt: rank 0's placement is the attempt's node and GPUs.
    public init(number: Int, ranks placements: [Placement], resources: Resources, allocatedAt: Timestamp, port: Int?) {
        self.init(
            number: number,
            node: placements.first?.node ?? NodeID(""),
            gpuIndices: placements.first?.gpuIndices ?? [],
            resources: resources,
            allocatedAt: allocatedAt
        )
        ranks = placements.enumerated().map {
            RankRun(rank: $0.offset, node: $0.element.node, gpuIndices: $0.element.gpuIndices)
        }
        masterPort = port
    }
}

/// What a job's processes used, as its node measured it (from /proc for the whole process group, and from
/// nvidia-smi for GPU memory).
public struct ResourceUsage: Hashable, Sendable {
    /// User + system CPU time, seconds.
    public var cpuSeconds: Double
    /// Resident memory at the last sample, bytes.
    public var memoryBytes: Int64
    /// The most resident memory seen, bytes.
    public var peakMemoryBytes: Int64
    /// GPU memory its processes hold (MiB), where the node can tell.
    public var gpuMemoryMiB: Int?

    public init(cpuSeconds: Double, memoryBytes: Int64, peakMemoryBytes: Int64, gpuMemoryMiB: Int? = nil) {
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.peakMemoryBytes = peakMemoryBytes
        self.gpuMemoryMiB = gpuMemoryMiB
    }

    /// The final account (from the job's end) completed by the samples taken while it ran: the peaks are the
    /// larger of the two, and GPU memory, which only samples see, is kept.
    public func ended(with final: ResourceUsage) -> ResourceUsage {
        ResourceUsage(
            cpuSeconds: final.cpuSeconds,
            memoryBytes: final.memoryBytes,
            peakMemoryBytes: max(peakMemoryBytes, final.peakMemoryBytes),
            gpuMemoryMiB: final.gpuMemoryMiB ?? gpuMemoryMiB
        )
    }
}
