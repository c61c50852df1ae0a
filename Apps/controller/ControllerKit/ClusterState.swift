import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import HTTPKit

/// The live cluster, in memory, written through to SQLite. Every mutation is one actor call: it computes the
/// change, commits it in one transaction, and only then updates memory, so memory never runs ahead of disk.
///
/// The actor runs on its own serial dispatch queue so SQLite's disk I/O never blocks the cooperative pool.
actor ClusterState {
    let executor = DispatchSerialExecutor(label: "corral.controller.state")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let database: ClusterDatabase
    let settings: ControllerConfiguration
    let clock: any WallClock
    let log: any LogSink

    var jobs: [JobID: Job] = [:]
    /// How many jobs are in each state, kept as jobs change (for /metrics, without a scan).
    var stateCounts: [JobState: Int] = [:]
    /// Job ids in submission order, for listing newest first without sorting.
    var jobOrder: [JobID] = []
    var orderIndex: [JobID: Int] = [:]
    /// QUEUED jobs: the scheduler's input, kept as an index so a pass never scans finished jobs.
    var queued: Set<JobID> = []
    var nodes: [NodeID: Node] = [:]
    var live: [AllocationID: LiveAllocation] = [:]
    var liveByNode: [NodeID: Set<AllocationID>] = [:]
    var credentials: [String: Credential] = [:]
    var waiters: [NodeID: [Int: CheckedContinuation<Void, Never>]] = [:]
    var nextWaiter = 0
    var passRequested = false
    /// Submissions waiting for the next group commit, and whether a flush is already on its way.
    var submitBatch: [PendingSubmit] = []
    var submitFlushScheduled = false
    /// Decaying GPU-seconds per user, for fair share; rebuilt from finished attempts at start.
    var usage = FairShareUsage()
    /// Bumped at each registration of a node; long polls from before it return empty.
    var pollGeneration: [NodeID: Int] = [:]
    /// Credentials used since their last-use time was last written.
    var usedCredentials: Set<String> = []
    /// When this controller started: no node is judged lost before one allocation lease has passed.
    let startedAt: Timestamp

    init(settings: ControllerConfiguration, clock: any WallClock, log: any LogSink) throws {
        self.settings = settings
        self.clock = clock
        self.log = log
        database = try ClusterDatabase(path: settings.databasePath)
        let now = clock.now()
        startedAt = now
        for credential in try database.loadCredentials() { credentials[credential.hash] = credential }
        for var node in try database.loadNodes() {
            // After a controller restart every node gets a full timeout of grace before it is judged lost.
            node.lastHeartbeat = now
            nodes[node.id] = node
        }
        for job in try database.loadJobs() {
            jobs[job.id] = job
            stateCounts[job.state, default: 0] += 1
            for attempt in job.attempts {
                guard let started = attempt.startedAt, let ended = attempt.endedAt else { continue }
                usage.record(
                    user: job.user,
                    gpuSeconds: Double(attempt.resources.gpus) * Double((ended - started).milliseconds) / 1000,
                    at: ended
                )
            }
            orderIndex[job.id] = jobOrder.count
            jobOrder.append(job.id)
            if job.state == .queued { queued.insert(job.id) }
            if let attempt = job.currentAttempt, attempt.endedAt == nil,
                job.state.isPlaced || job.state == .canceled || job.state == .lost
            {
                let id = AllocationID(job: job.id, attempt: attempt.number)
                // Whether the agent got it is unknown after a restart: assume it did, the agent reconciles.
                var allocation = LiveAllocation(
                    id: id,
                    node: attempt.node,
                    gpuIndices: attempt.gpuIndices,
                    resources: attempt.resources,
                    allocatedAt: attempt.allocatedAt,
                    delivered: true,
                    // The agent may have been renewing all along: start the lease afresh.
                    leaseRenewedAt: now
                )
                if job.state == .canceled { allocation.stopRequestedAt = now }
                live[id] = allocation
                liveByNode[allocation.node, default: []].insert(id)
            }
        }
        log.info("loaded \(jobs.count) jobs (\(queued.count) queued, \(live.count) placed) and \(nodes.count) nodes")
    }

    struct PendingSubmit {
        let job: Job
        let event: JobEventRecord
        let continuation: CheckedContinuation<Job, any Error>
    }

    // MARK: Credentials

    func authenticate(_ token: String?) -> Principal? {
        guard let token, !token.isEmpty, token.utf8.count <= 256 else { return nil }
        let hash = Digest.sha256Hex(token)
        let now = clock.now()
        guard let credential = credentials[hash], credential.isUsable(at: now) else { return nil }
        // Kept in memory; the tick writes it now and then, so a request costs no write.
        if credential.kind == .user || credential.kind == .admin {
            credentials[hash]?.lastUsedAt = now
            usedCredentials.insert(hash)
        }
        return Principal(kind: credential.kind, subject: credential.subject)
    }

    /// Stores a new credential for `token` (its hash only) and returns it.
    @discardableResult
    func addCredential(token: String, kind: CredentialKind, subject: String) throws -> Credential {
        let credential = Credential(
            hash: Digest.sha256Hex(token),
            prefix: String(token.prefix(12)),
            kind: kind,
            subject: subject,
            createdAt: clock.now()
        )
        try database.saveCredential(credential)
        credentials[credential.hash] = credential
        return credential
    }

    /// Makes sure a token read from a file at start is known (the database may be new). For the join token,
    /// the file is the truth: any other join token is revoked, so replacing the file rotates it.
    func ensureCredential(token: String, kind: CredentialKind, subject: String) throws {
        let hash = Digest.sha256Hex(token)
        if kind == .cluster {
            for var credential in credentials.values where credential.kind == .cluster {
                let shouldBeRevoked = credential.hash != hash
                guard credential.revoked != shouldBeRevoked else { continue }
                credential.revoked = shouldBeRevoked
                try database.saveCredential(credential)
                credentials[credential.hash] = credential
            }
        }
        if credentials[hash] == nil { try addCredential(token: token, kind: kind, subject: subject) }
    }

    func revokeCredentials(kind: CredentialKind, subject: String) throws {
        for var credential in credentials.values where credential.kind == kind && credential.subject == subject {
            credential.revoked = true
            try database.saveCredential(credential)
            credentials[credential.hash] = credential
        }
    }

    // MARK: Bookkeeping

    func addLive(_ allocation: LiveAllocation) {
        live[allocation.id] = allocation
        liveByNode[allocation.node, default: []].insert(allocation.id)
    }

    func release(_ id: AllocationID) {
        guard let allocation = live.removeValue(forKey: id) else { return }
        liveByNode[allocation.node]?.remove(id)
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

    /// Commits a job's new version and its event in one transaction, then updates memory.
    func commit(_ job: Job, events: [JobEventRecord], isNew: Bool = false) throws {
        try database.transaction {
            if isNew { try database.insertJob(job) } else { try database.updateJob(job) }
            for event in events { try database.appendEvent(event) }
        }
        keep(job)
        if isNew {
            orderIndex[job.id] = jobOrder.count
            jobOrder.append(job.id)
        }
        if job.state == .queued { queued.insert(job.id) } else { queued.remove(job.id) }
    }

    /// Puts the job in memory, keeping the per-state counts right.
    func keep(_ job: Job) {
        if let old = jobs.updateValue(job, forKey: job.id) { stateCounts[old.state, default: 0] -= 1 }
        stateCounts[job.state, default: 0] += 1
    }

    /// Applies one event to a job through the state machine. A refused transition is logged and recorded in
    /// the event log as not applied, and nothing else changes.
    func transition(
        _ job: inout Job,
        _ event: JobEvent,
        node: NodeID? = nil,
        extraEvents: [JobEventRecord] = []
    ) throws -> Transition? {
        var machine = JobStateMachine(state: job.state)
        let now = clock.now()
        let attempt = job.currentAttempt?.number ?? 0
        do {
            let transition = try machine.handle(event)
            job.state = transition.to
            job.updatedAt = now
            job.message = transition.reason
            job.pendingReason = transition.to == .queued ? .resources : nil
            let record = JobEventRecord(
                job: job.id,
                attempt: attempt,
                from: transition.from,
                to: transition.to,
                reason: transition.reason,
                node: node ?? job.currentAttempt?.node,
                at: now
            )
            try commit(job, events: extraEvents + [record])
            return transition
        } catch let refused as TransitionError {
            log.warning("job \(job.id): refused: \(refused)")
            try database.appendEvent(
                JobEventRecord(
                    job: job.id,
                    attempt: attempt,
                    from: job.state,
                    to: nil,
                    reason: "refused: \(refused)",
                    node: node,
                    at: now,
                    applied: false
                )
            )
            return nil
        }
    }

    // MARK: Long-poll waiters

    /// Suspends until work for `node` may be there, or until `deadline`.
    func waitForWork(node: NodeID, until deadline: Timestamp) async {
        let id = nextWaiter
        nextWaiter += 1
        let delay = deadline - clock.now()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiters[node, default: [:]][id] = continuation
            Task { [weak self] in
                try? await Task.sleep(for: delay)
                await self?.wake(node: node, waiter: id)
            }
        }
    }

    func wake(node: NodeID, waiter: Int) {
        waiters[node]?.removeValue(forKey: waiter)?.resume()
    }

    func wakeAll(node: NodeID) {
        guard let pending = waiters.removeValue(forKey: node) else { return }
        for continuation in pending.values { continuation.resume() }
    }
}
