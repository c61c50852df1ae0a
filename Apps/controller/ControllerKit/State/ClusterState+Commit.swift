import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import Glibc

/// Changes decided together and stored in one transaction: lifecycle outcomes (staged one after another, each
/// against the job as the earlier ones left it), node records, and liveness actions on allocations.
struct ChangeSet {
    private(set) var outcomes: [LifecycleOutcome] = []
    /// Jobs as the staged outcomes left them, and jobs new in this set.
    private(set) var staged: [JobID: Job] = [:]
    private(set) var newJobs: Set<JobID> = []
    /// Allocations as the staged effects left them (nil: released).
    private(set) var stagedAllocations: [AllocationID: Allocation?] = [:]
    var nodes: [NodeID: Node] = [:]
    /// Liveness's effects on allocations (redeliver, renew, stop, release), carried out after the outcomes'.
    private(set) var effects: [LifecycleEffect] = []
    /// Idempotency keys of the submissions in this set, stored with their jobs.
    var idempotency: [IdempotencyRecord] = []
    /// Finished jobs out of memory that events in this set were run against, as SQLite had them before.
    var readFromStore: [JobID: Job] = [:]

    mutating func add(_ outcome: LifecycleOutcome, new: Bool = false) {
        outcomes.append(outcome)
        if outcome.storage != .none { staged[outcome.job.id] = outcome.job }
        if new { newJobs.insert(outcome.job.id) }
        for effect in outcome.effects {
            switch effect {
            case .hold(let allocation): stagedAllocations[allocation.id] = .some(allocation)
            case .release(let id): stagedAllocations[id] = .some(nil)
            default: break
            }
        }
    }

    mutating func add(_ effect: LifecycleEffect) { effects.append(effect) }
}

extension ClusterState {
    /// The job as the change set has it so far, else as memory has it, else as stored.
    func job(_ id: JobID, in changes: ChangeSet) -> Job? { changes.staged[id] ?? jobs[id] ?? storedJob(id) }

    /// Runs `event` through the lifecycle against the job as staged so far, and stages the outcome. Nil when
    /// the job does not exist.
    @discardableResult
    func stage(_ event: LifecycleEvent, job id: JobID, in changes: inout ChangeSet) -> LifecycleOutcome? {
        guard let job = job(id, in: changes) else { return nil }
        if changes.staged[id] == nil && jobs[id] == nil { changes.readFromStore[id] = job }
        var held: [Int: Allocation] = [:]
        for allocationID in job.liveAttempt?.allocationIDs(of: id) ?? [] {
            let allocation: Allocation? =
                if let staged = changes.stagedAllocations[allocationID] { staged } else { allocations[allocationID] }
            if let allocation { held[allocationID.rank] = allocation }
        }
        let context = LifecycleContext(now: clock.now(), policy: lifecyclePolicy, allocations: held)
        let outcome = JobLifecycle.handle(event, job: job, context: context)
        changes.add(outcome)
        return outcome
    }

    /// Stages a new job's first event.
    func stage(new job: Job, in changes: inout ChangeSet) -> LifecycleOutcome {
        let outcome = JobLifecycle.handle(.submitted, job: job, context: LifecycleContext(now: clock.now()))
        changes.add(outcome, new: true)
        return outcome
    }

    /// Stores the change set in one transaction, then updates memory and carries the effects out. When the
    /// store fails nothing changes in memory, and the error is thrown.
    func commit(_ changes: ChangeSet) throws {
        // Begun before SQLite commits (another connection may read the rows at once) and counted before memory
        // changes: whatever an answer can see from now on waits for this commit's sync.
        walSync.willCommit()
        do {
            try store(changes)
        } catch {
            walSync.counted()
            if let error = error as? StoreError, error.isFenced {
                // A newer leader holds the cluster (PostgreSQL): nothing of this controller's memory may be acted on.
                LeaderElection.endDeposed("the database refused a commit: \(error.message)", log: log)
            }
            if let error = error as? StoreError, error.outcomeUnknown {
                // The connection broke while PostgreSQL had the COMMIT: memory cannot know which way it went. A
                // restart (or the standby taking over) reads what the database holds; nobody heard of the change.
                log.error(
                    "the database connection was lost during a commit (\(error.message)): exiting, to start again from what it holds"
                )
                _exit(75)
            }
            if let error = error as? StoreError, ResultCode.full ~= error.code {
                storageFault = "disk full: the data directory \(settings.dataDir) has no space left (\(error.message))"
            }
            throw error
        }
        walSync.counted()
        for node in changes.nodes.values {
            if node.status == .lost && !node.revoked && nodes[node.id]?.status != .lost {
                log.warning("node \(node.id) is lost: no heartbeat for \(settings.nodeTimeout)")
            }
            nodes[node.id] = node
        }
        // A stored node change may change what the scheduler's prepared views hold (status, drain, GPUs...).
        if !changes.nodes.isEmpty { nodesVersion += 1 }
        for outcome in changes.outcomes where outcome.storage != .none {
            let job = outcome.job
            let new = changes.newJobs.contains(job.id)
            // A finished job out of memory that an event changed (a cancel it refuses stores nothing) comes back;
            // none leaves memory before the end of this commit.
            let before = new ? nil : jobs[job.id] ?? changes.readFromStore[job.id]
            if new, let task = job.array { arrayTasks[task.array, default: []].append(job.id) }
            jobMetrics.observe(before: before, after: job)
            if let url = job.spec.notify, let before, let event = JobNotification.event(before: before, after: job) {
                notifier.send(
                    JobNotification(event: event, job: job, at: clock.now()),
                    to: url,
                    after: walSync.mark()
                )
            }
            keep(job, before: before)
        }
        // New jobs alone (a batch of submissions) that cannot start now ask for a lazy pass (`passDelay`).
        let lazy =
            changes.outcomes.count == changes.newJobs.count && changes.effects.isEmpty
            && mayWaitForPass(changes.outcomes.lazy.map(\.job))
        for outcome in changes.outcomes {
            for effect in outcome.effects {
                if lazy, case .requestPass = effect { requestSchedulingPass(lazy: true) } else { carryOut(effect) }
            }
        }
        for effect in changes.effects { carryOut(effect) }
        for record in changes.idempotency { remember(record) }
        refreshHeld(after: changes)
        // Only now, with every outcome kept and every effect carried out, may the oldest finished jobs leave.
        forgetOldFinishedJobs()
    }

    /// The durable part: each changed job written once (its last version, every attempt any outcome touched),
    /// its records in order, and the nodes.
    private func store(_ changes: ChangeSet) throws {
        var order: [JobID] = []
        var attempts: [JobID: Set<Int>] = [:]
        var records: [JobEventRecord] = []
        var specChanged = Set<JobID>()
        for outcome in changes.outcomes where outcome.storage == .durable {
            if attempts[outcome.job.id] == nil { order.append(outcome.job.id) }
            if outcome.specChanged { specChanged.insert(outcome.job.id) }
            attempts[outcome.job.id, default: []].formUnion(outcome.touchedAttempts)
            records += outcome.records
        }
        guard !order.isEmpty || !changes.nodes.isEmpty || !changes.idempotency.isEmpty else { return }
        try database.transaction {
            for node in changes.nodes.values.sorted(by: { $0.id < $1.id }) { try database.saveNode(node) }
            // New jobs, their events and keys a few statements at a time (a group commit holds hundreds).
            try database.insertJobs(order.filter(changes.newJobs.contains).compactMap { changes.staged[$0] })
            for id in order where !changes.newJobs.contains(id) {
                guard let job = changes.staged[id] else { continue }
                try database.updateJob(job, attempts: attempts[id] ?? [], spec: specChanged.contains(id))
            }
            try database.appendEvents(records)
            try database.insertIdempotencyKeys(changes.idempotency)
        }
        storageFault = nil
    }

    func carryOut(_ effect: LifecycleEffect) {
        switch effect {
        case .hold(let allocation):
            hold(allocation)
        case .release(let id):
            release(id)
        case .stop(let id):
            guard allocations[id] != nil else { return }
            if allocations[id]?.stopRequestedAt == nil { allocations[id]?.stopRequestedAt = clock.now() }
            allocations[id]?.stopDelivered = false
        case .renewLease(let id):
            allocations[id]?.delivered = true
            allocations[id]?.leaseRenewedAt = clock.now()
        case .redeliver(let id):
            allocations[id]?.delivered = false
        case .wake(let node):
            wakeAll(node: node)
        case .requestPass:
            requestSchedulingPass()
        }
    }

    /// Stages liveness actions: job events through the lifecycle, lost nodes as node records, the rest as
    /// allocation actions.
    func stage(_ actions: [LivenessAction], in changes: inout ChangeSet) {
        for action in actions {
            switch action {
            case .job(let id, let event):
                stage(event, job: id, in: &changes)
            case .markLost(let id):
                guard var node = changes.nodes[id] ?? nodes[id] else { continue }
                node.status = .lost
                changes.nodes[id] = node
            case .suspectSelf(let silent, let alive):
                log.warning(
                    "\(silent) of \(alive) nodes went silent at once: suspecting this controller's network, "
                        + "marking none lost"
                )
            case .effect(let effect):
                changes.add(effect)
            }
        }
    }
}
