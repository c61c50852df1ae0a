import ClusterCore
import ClusterStore
import CorralSupport

/// The user API's operations on jobs: submit (group commit), find, list, cancel, history.
extension ClusterState {
    /// Accepts a job once it is durable. Submissions that arrive while a commit is in flight are written
    /// together in the next transaction (group commit): one fsync for many jobs, and each caller is answered
    /// only after its job is on disk.
    func submit(
        _ spec: JobSpec,
        user: String,
        unixUser: String? = nil,
        hold: JobHold? = nil,
        idempotency: IdempotencyRequest? = nil
    ) async throws -> Job {
        try checkQueue(spec.queue)
        var record: IdempotencyRecord?
        if let idempotency {
            // A retry: the job its first try made, stored or on its way to the disk.
            if let id = try replay(idempotency, user: user) {
                guard let job = anyJob(id) else { throw ClusterError.idempotencyKeyReused(idempotency.key) }
                return job
            }
            if let index = submitBatch.firstIndex(where: {
                $0.idempotency?.key == idempotency.key && $0.idempotency?.user == user
            }) {
                guard submitBatch[index].idempotency?.requestHash == idempotency.requestHash else {
                    throw ClusterError.idempotencyKeyReused(idempotency.key)
                }
                return try await withCheckedThrowingContinuation { submitBatch[index].continuations.append($0) }
            }
        }
        let id = newJobID()
        let now = clock.now()
        var job = Job(id: id, spec: spec, user: user, submittedAt: now)
        job.unixUser = unixUser
        job.hold = hold
        if let idempotency { record = idempotency.record(user: user, job: id, at: now) }
        return try await withCheckedThrowingContinuation { continuation in
            submitBatch.append(PendingSubmit(job: job, continuations: [continuation], idempotency: record))
            guard !submitFlushScheduled else { return }
            submitFlushScheduled = true
            Task { self.flushSubmissions() }
        }
    }

    /// Commits every waiting submission in one transaction, then answers each caller.
    func flushSubmissions() {
        let batch = submitBatch
        submitBatch = []
        submitFlushScheduled = false
        guard !batch.isEmpty else { return }
        var changes = ChangeSet()
        let outcomes = batch.map { stage(new: $0.job, in: &changes) }
        changes.idempotency = batch.compactMap(\.idempotency)
        do {
            try commit(changes)
        } catch {
            log.error("cannot store \(batch.count) submitted job(s): \(error)")
            for entry in batch { for continuation in entry.continuations { continuation.resume(throwing: error) } }
            return
        }
        forgetOldIdempotencyKeys()
        // The fault suite's "killed between commit and answer" (issue 16): stored, and nobody hears back.
        if Self.exitAfterSubmitCommit { Self.exitNow() }
        for (entry, outcome) in zip(batch, outcomes) {
            for continuation in entry.continuations { continuation.resume(returning: outcome.job) }
        }
    }

    /// Refuses a queue the controller does not have, naming the ones it has.
    nonisolated func checkQueue(_ name: String) throws(ClusterError) {
        guard settings.policy.queues[name] == nil else { return }
        throw ClusterError.unknownQueue(name, known: settings.policy.queues.keys.sorted())
    }

    /// A job the principal may see (admins see all, users their own), from memory or as stored.
    func visibleJob(_ id: JobID, for principal: Principal) -> Job? {
        guard let job = anyJob(id), principal.isAdmin || job.user == principal.subject else { return nil }
        return job
    }

    /// Resolves a full id, a unique prefix of one, or else a unique end of one, among the jobs the principal may
    /// see. Ids are made in order (`JobID+Ordered.swift`): those of jobs submitted close together share their first
    /// letters and differ in their last ones. Ends are looked for among the jobs in memory (every unfinished one,
    /// and the latest finished ones), as an end is no range of the stored index: through `jobEnds`, among the ids
    /// that share its last three letters.
    func resolveJob(_ text: String, for principal: Principal) throws(ClusterError) -> Job {
        if let job = visibleJob(JobID(text), for: principal) { return job }
        guard JobID.isValid(text), text.count >= 3 else { throw .jobNotFound(text) }
        var matches: [Job] = []
        do {
            // Among the user's own (another user's jobs with the prefix are not theirs to be told of).
            for id in try database.jobIDs(withPrefix: text, user: principal.isAdmin ? nil : principal.subject, limit: 8)
            {
                if let job = visibleJob(id, for: principal) { matches.append(job) }
                if matches.count > 5 { break }
            }
        } catch {
            log.error("cannot look up job ids starting with \(text): \(error)")
        }
        if matches.isEmpty {
            // A standby's copy indexes the ends as the leader's memory does, once it is read again if old.
            do { try refreshMirror() } catch { log.error("cannot read the cluster from the database: \(error)") }
            for id in jobEnds.ids(endingWith: Array(text.utf8)) {
                if let job = visibleJob(id, for: principal) { matches.append(job) }
                if matches.count > 5 { break }
            }
        }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty { throw .jobNotFound(text) }
        throw .ambiguousJob(text, matches: matches.map(\.id))
    }

    typealias ListQuery = JobListing.Query

    /// `JobListing.page`, each job as memory has it where it holds it (its pending reason, its idle mark).
    func list(_ query: ListQuery, for principal: Principal) throws -> ([Job], JobID?) {
        try JobListing.page(query, for: principal, in: database) { anyJob($0) }
    }

    /// Cancels a job: at once when nothing of it can be running, else by asking its agent to stop it (the job
    /// ends CANCELED when its processes are gone). Canceling twice is one cancel.
    func cancel(_ id: JobID, by principal: Principal) throws -> Job {
        guard visibleJob(id, for: principal) != nil else { throw ClusterError.jobNotFound(id.rawValue) }
        var changes = ChangeSet()
        guard let outcome = stage(.cancel(by: principal.subject), job: id, in: &changes) else {
            throw ClusterError.jobNotFound(id.rawValue)
        }
        if case .alreadyFinished(let state) = outcome.rejection { throw ClusterError.alreadyFinished(id, state) }
        try commit(changes)
        return jobs[id] ?? outcome.job
    }

    func events(of id: JobID, for principal: Principal) throws -> [JobEventRecord] {
        guard visibleJob(id, for: principal) != nil else { throw ClusterError.jobNotFound(id.rawValue) }
        return try database.events(of: id)
    }

    /// The attempt of a visible job whose log to read: `number`, or the current one (0 when none yet).
    nonisolated static func attemptNumber(of job: Job, _ number: Int?) throws(ClusterError) -> Int {
        let number = number ?? job.currentAttempt?.number ?? 0
        guard number == 0 || job.attempts.contains(where: { $0.number == number }) else {
            throw .noSuchAttempt(job.id, number)
        }
        return number
    }
}
