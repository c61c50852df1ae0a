import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport

/// The live cluster in memory, written through to SQLite: the indexes the API and the scheduler read, and the
/// one place that stores lifecycle outcomes and carries their effects out (`ClusterState+Commit.swift`). It
/// decides nothing itself: job rules are `JobLifecycle`'s, node rules `NodeLiveness`'s, placement the
/// `Scheduler`'s. Memory never runs ahead of disk: every change is committed before memory moves.
///
/// The actor runs on its own serial dispatch queue so SQLite's disk I/O never blocks the cooperative pool.
actor ClusterState {
    let executor = DispatchSerialExecutor(label: "corral.controller.state")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let database: ClusterDatabase
    let settings: ControllerConfiguration
    let clock: any WallClock
    let log: any LogSink
    /// Posts jobs' `--notify` events, off this actor.
    let notifier: Notifier
    /// Syncs the commits off this actor; answers wait for it (`WALSync`).
    let walSync: WALSync
    /// When this controller started: no node is judged lost before the lease its agent may hold has passed.
    let startedAt: Timestamp

    /// Every job that has not ended and the newest `finished_jobs_in_memory` that have; the others are read
    /// from SQLite when asked for (`ClusterState+History.swift`).
    var jobs: [JobID: Job] = [:]
    /// The ids of `jobs` by their last letters: a job named by an end of its id (`resolveJob`).
    var jobEnds = JobEnds()
    /// How many jobs are in each state, all of them, in memory or not (for /metrics, without a scan).
    var stateCounts: [JobState: Int] = [:]
    /// The finished jobs in memory, in the order they finished (the first leaves memory first), from
    /// `finishedHead` on.
    var finishedOrder: [JobID] = []
    var finishedHead = 0
    /// The states of finished jobs out of memory that pending jobs depend on, read once from SQLite.
    var storedStates: [JobID: JobState] = [:]
    /// QUEUED jobs: the scheduler's input, kept as an index so a pass never scans finished jobs.
    var queued: Set<JobID> = []
    var nodes: [NodeID: Node] = [:]
    var allocations: [AllocationID: Allocation] = [:]
    var allocationsByNode: [NodeID: Set<AllocationID>] = [:]
    /// Decaying GPU-seconds per user, for fair share; rebuilt from finished attempts at start.
    var usage = FairShareUsage()
    var waiters = Waiters()
    /// When the requested pass will run; nil when none is requested (`requestSchedulingPass`).
    var passDue: ContinuousClock.Instant?
    /// The largest room on any one node after the last pass, and the nodes' version it was read at: whether a new
    /// job might start at once (`PreparedNodes.largestFree`).
    var roomAfterPass: (version: Int, room: Resources)?
    /// The last scheduling pass's planning in seconds (its snapshot and plan, and the pending reasons it wrote
    /// back), and when its plan was made (before its commit): they space the next (`passDelay`).
    var lastPassSeconds = 0.0
    var lastPassEnded: ContinuousClock.Instant?
    /// The number of the last job id this controller made (`newJobID`); 0 before the first.
    var lastJobNumber: UInt64 = 0
    /// Submissions waiting for the next group commit, and whether a flush is already on its way.
    var submitBatch: [PendingSubmit] = []
    var submitFlushScheduled = false
    /// Bumped at each registration of a node; long polls from before it return empty.
    var pollGeneration: [NodeID: Int] = [:]
    /// `corral exec` requests for each node's next long poll (not stored: a session ends with the controller).
    var pendingExec: [NodeID: [ExecAssignment]] = [:]
    /// Each job array's tasks in memory, in index order, and how many left memory by final state (issue 16).
    var arrayTasks: [JobID: [JobID]] = [:]
    var arrayLeft: [JobID: [JobState: Int]] = [:]
    /// When a pass is already due for a job waiting out its retry backoff.
    var backoffWake: Timestamp?
    /// The jobs the last pass chose to preempt, by preemptor (for explain; memory only).
    var preemptionPlans: [JobID: [JobID]] = [:]
    /// Counters and histograms of jobs' lives, scheduling passes and agents' reports, for /metrics.
    var jobMetrics = JobMetrics()
    var passDurations = Histogram(Histogram.passes)
    var agentReports: [String: Int] = [:]
    /// The scheduler's node views and static fits, kept across passes (issue 16), and the node records they
    /// were built from: rebuilt when a stored node changes (`nodesVersion`).
    var prepared: (version: Int, nodes: PreparedNodes)?
    var nodesVersion = 0
    /// Each node's GPU utilization over the last hour, from its heartbeats (memory only).
    var utilization: [NodeID: UtilizationHistory] = [:]
    /// Each node's stage cache as its last heartbeat reported it (memory only: the next heartbeat says again).
    var stageCaches: [NodeID: StageCacheReport] = [:]
    /// Why the last write failed for want of space, until a write succeeds again (`/healthz` says it).
    var storageFault: String?
    /// A standby's read-only copy of the cluster (`ClusterState+Mirror.swift`): it writes nothing, and when it
    /// was last read from the database.
    let mirror: Bool
    var mirroredAt: ContinuousClock.Instant?
    var mirrorReadTook = Duration.zero
    /// Reads of a job from the database that failed (and answered "no such job"): a standby's answer says so.
    var storeReadFaults = 0
    /// How long each reading of the copy took (a standby's /metrics).
    var mirrorReloadDurations = Histogram(Histogram.passes)

    struct PendingSubmit {
        let job: Job
        var continuations: [CheckedContinuation<Job, any Error>]
        var idempotency: IdempotencyRecord?
    }

    /// Submissions by `Idempotency-Key`, the last day's (stored in SQLite with their jobs, loaded at start).
    var idempotencyKeys: [IdempotencyScope: IdempotencyRecord] = [:]
    /// The same keys, oldest first, to forget them after a day.
    var idempotencyOrder: [IdempotencyScope] = []
    var idempotencyHead = 0

    init(
        settings: ControllerConfiguration,
        database: ClusterDatabase,
        clock: any WallClock,
        log: any LogSink,
        walSync: WALSync? = nil,
        mirror: Bool = false
    ) async throws {
        self.settings = settings
        self.database = database
        self.clock = clock
        self.log = log
        self.mirror = mirror
        // The migrations just run went through this connection too: the first answer waits for their sync.
        self.walSync = walSync ?? WALSync(databasePath: database.sqlitePath ?? "", log: log)
        self.walSync.willCommit()
        self.walSync.counted()
        notifier = Notifier(log: log, walSync: self.walSync)
        startedAt = clock.now()
        if mirror {
            try reloadMirror()
        } else {
            try loadStored(now: startedAt)
            log.info(
                "loaded \(jobs.count) jobs (\(queued.count) queued, \(allocations.count) placed) and \(nodes.count) nodes"
            )
        }
    }

    /// Reads the cluster from the database into the empty indexes: at start, at a takeover, and (`mirror`) each
    /// time a standby's copy is refreshed.
    func loadStored(now: Timestamp) throws {
        for var node in try database.loadNodes() {
            // After a controller restart every node gets a full timeout of grace before it is judged lost. A
            // standby's copy shows the node as stored.
            if !mirror { node.lastHeartbeat = now }
            nodes[node.id] = node
        }
        // Tasks of an array share their submission time and load in id order ("a_10" before "a_2"): in index
        // order instead, as they were submitted.
        let loaded = try database.loadJobs(finishedWindow: settings.finishedJobsInMemory).sorted { x, y in
            if x.submittedAt != y.submittedAt { return x.submittedAt < y.submittedAt }
            let (groupX, groupY) = (x.array?.array ?? x.id, y.array?.array ?? y.id)
            if groupX != groupY { return groupX < groupY }
            return (x.array?.index ?? 0) < (y.array?.index ?? 0)
        }
        jobs.reserveCapacity(jobs.count + loaded.count)
        for job in loaded { load(job, at: now) }
        stateCounts = try database.jobCounts()
        try countTasksLeft()
        let finished = jobs.values.filter(Self.leavesMemory).sorted { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }
        for job in finished { finishedOrder.append(job.id) }
        forgetOldFinishedJobs()
        // Fair share and idempotency keys are for placing and submitting: a standby's copy does neither.
        guard !mirror else { return }
        // Fair share covers every job, not only those in memory.
        try database.forEachEndedAttempt { user, attempt in
            guard let started = attempt.startedAt, let ended = attempt.endedAt else { return }
            // Every rank of a gang held its GPUs (as `release` charges them at run time).
            let gpus = Double(attempt.resources.gpus * max(attempt.ranks.count, 1))
            usage.record(user: user, gpuSeconds: gpus * Double((ended - started).milliseconds) / 1000, at: ended)
        }
        for record in try database.loadIdempotencyKeys(since: now + .seconds(-Self.idempotencyRetention)) {
            remember(record)
        }
    }

    /// Puts a stored job in the indexes; its live attempt's resources are held again.
    private func load(_ job: Job, at now: Timestamp) {
        if jobs.updateValue(job, forKey: job.id) == nil { jobEnds.insert(job.id) }
        if job.state == .queued { queued.insert(job.id) }
        if let task = job.array { arrayTasks[task.array, default: []].append(job.id) }
        guard let attempt = job.liveAttempt, job.state.isPlaced || job.state == .lost || job.state == .canceled
        else { return }
        for id in attempt.liveAllocationIDs(of: job.id) {
            // Whether the agent got it is unknown after a restart: assume it did, the agent reconciles. It may
            // have been renewing all along: the lease starts afresh.
            var allocation = Allocation(of: job.id, attempt, rank: id.rank)
            allocation.delivered = true
            allocation.leaseRenewedAt = now
            // A stop asked before the restart is asked again (a CANCELED row with a live attempt is from a
            // controller that ended jobs before their processes were gone), as is the stop of a gang's other
            // ranks after one failed.
            if job.stopRequest != nil || job.state == .canceled || attempt.failedRank != nil {
                allocation.stopRequestedAt = job.stopRequest?.at ?? now
            }
            hold(allocation)
        }
    }

    var lifecyclePolicy: LifecyclePolicy {
        LifecyclePolicy(infrastructureRetries: settings.infrastructureRetries, retryBackoff: settings.retryBackoff)
    }

    /// What node liveness reads, now.
    func livenessView(now: Timestamp) -> LivenessView {
        LivenessView(
            nodes: nodes,
            allocations: allocations,
            jobs: jobs,
            settings: settings.liveness,
            startedAt: startedAt,
            now: now
        )
    }

    // MARK: Indexes

    /// Puts the job in memory, keeping the per-state counts and the queue index right; `before` is the job as
    /// it was (from SQLite when it had left memory), nil for a new one. A job that has just finished joins the
    /// finished ones in memory.
    func keep(_ job: Job, before: Job?) {
        let old = jobs.updateValue(job, forKey: job.id)
        if old == nil { jobEnds.insert(job.id) }
        if let before { stateCounts[before.state, default: 0] -= 1 }
        stateCounts[job.state, default: 0] += 1
        if job.state == .queued { queued.insert(job.id) } else { queued.remove(job.id) }
        // It leaves memory at the end of the commit (`forgetOldFinishedJobs`), once its effects (a release that
        // charges fair share from it) are carried out.
        if Self.leavesMemory(job) && old.map(Self.leavesMemory) != true { finishedOrder.append(job.id) }
    }

    func hold(_ allocation: Allocation) {
        allocations[allocation.id] = allocation
        allocationsByNode[allocation.node, default: []].insert(allocation.id)
    }

    func release(_ id: AllocationID) {
        guard let allocation = allocations.removeValue(forKey: id) else { return }
        allocationsByNode[allocation.node]?.remove(id)
        // Fair share counts GPU-seconds from start to release (the GPUs were held all that time).
        if let job = jobs[id.job], let attempt = job.attempts.first(where: { $0.number == id.attempt }),
            let started = attempt.startedAt, allocation.resources.gpus > 0
        {
            let now = clock.now()
            let seconds = Double((now - started).milliseconds) / 1000
            usage.record(user: job.user, gpuSeconds: Double(allocation.resources.gpus) * max(0, seconds), at: now)
        }
        requestSchedulingPass()
    }

    /// The allocations held on a node.
    func allocations(on node: NodeID) -> [Allocation] {
        (allocationsByNode[node] ?? []).compactMap { allocations[$0] }
    }
}
