import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import HTTPKit

/// The user API's operations on jobs.
extension ClusterState {
    /// Accepts a job once it is durable. Submissions that arrive while a commit is in flight are written
    /// together in the next transaction (group commit): one fsync for many jobs, and each caller is answered
    /// only after its job is on disk.
    func submit(_ spec: JobSpec, user: String) async throws -> Job {
        var id = JobID.random()
        while jobs[id] != nil || submitBatch.contains(where: { $0.job.id == id }) { id = JobID.random() }
        let now = clock.now()
        var job = Job(id: id, spec: spec, user: user, submittedAt: now)
        job.message = "submitted by \(user)"
        let event = JobEventRecord(
            job: id,
            attempt: 0,
            from: nil,
            to: .queued,
            reason: "submitted by \(user)",
            node: nil,
            at: now
        )
        return try await withCheckedThrowingContinuation { continuation in
            submitBatch.append(PendingSubmit(job: job, event: event, continuation: continuation))
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
        do {
            try database.transaction {
                for entry in batch {
                    try database.insertJob(entry.job)
                    try database.appendEvent(entry.event)
                }
            }
        } catch {
            log.error("cannot store \(batch.count) submitted job(s): \(error)")
            for entry in batch { entry.continuation.resume(throwing: error) }
            return
        }
        for entry in batch {
            keep(entry.job)
            orderIndex[entry.job.id] = jobOrder.count
            jobOrder.append(entry.job.id)
            queued.insert(entry.job.id)
            entry.continuation.resume(returning: entry.job)
        }
        requestSchedulingPass()
    }

    /// A job the principal may see: admins see all, users their own. Someone else's job is reported exactly
    /// like an unknown one, so ids cannot be probed.
    func visibleJob(_ id: JobID, for principal: Principal) -> Job? {
        guard let job = jobs[id], principal.isAdmin || job.user == principal.subject else { return nil }
        return job
    }

    /// Resolves a full id, or a unique prefix of one, among the jobs the principal may see.
    func resolveJob(_ text: String, for principal: Principal) throws(APIError) -> Job {
        if let job = visibleJob(JobID(text), for: principal) { return job }
        guard JobID.isValid(text), text.count >= 3 else { throw APIError.jobNotFound(text) }
        var matches: [Job] = []
        for id in jobOrder where id.rawValue.hasPrefix(text) {
            if let job = visibleJob(id, for: principal) { matches.append(job) }
            if matches.count > 5 { break }
        }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty { throw APIError.jobNotFound(text) }
        throw APIError(
            .conflict,
            "ambiguous_id",
            "'\(text)' matches several jobs (\(matches.map(\.id.rawValue).joined(separator: ", "))): give more characters"
        )
    }

    struct ListQuery: Sendable {
        var states: Set<JobState>?
        var user: String?
        var queue: String?
        var name: String?
        var limit: Int = 100
        var cursor: JobID?
    }

    /// Newest first, at most `limit`, after `cursor`; returns the jobs and the cursor for the next page.
    func list(_ query: ListQuery, for principal: Principal) -> ([Job], JobID?) {
        var result: [Job] = []
        var position = jobOrder.count - 1
        if let cursor = query.cursor, let index = orderIndex[cursor] { position = index - 1 }
        while position >= 0 {
            let id = jobOrder[position]
            position -= 1
            guard let job = visibleJob(id, for: principal) else { continue }
            if let states = query.states, !states.contains(job.state) { continue }
            if let user = query.user, job.user != user { continue }
            if let queue = query.queue, job.spec.queue != queue { continue }
            if let name = query.name, job.spec.name != name { continue }
            result.append(job)
            if result.count == query.limit { return (result, position >= 0 ? job.id : nil) }
        }
        return (result, nil)
    }

    func cancel(_ id: JobID, by principal: Principal) throws -> Job {
        guard var job = visibleJob(id, for: principal) else { throw APIError.jobNotFound(id.rawValue) }
        if job.state == .canceled { return job }
        if job.state.isFinished {
            throw APIError(
                .conflict,
                "already_finished",
                "job \(id) already finished (\(job.state)); nothing to cancel"
            )
        }
        let wasPlaced = job.state.isPlaced
        let allocationID = job.allocationID
        if wasPlaced, let allocationID, let allocation = live[allocationID], !allocation.delivered {
            // The agent never heard of it: the GPUs are free at once.
            job.attempts[job.attempts.count - 1].endedAt = clock.now()
            job.attempts[job.attempts.count - 1].finalState = .canceled
            _ = try transition(&job, .cancel(by: principal.subject))
            release(allocation.id)
            return job
        }
        if wasPlaced { job.attempts[job.attempts.count - 1].finalState = .canceled }
        _ = try transition(&job, .cancel(by: principal.subject))
        if wasPlaced, let allocationID, live[allocationID] != nil {
            // The process may be running: its GPUs stay held until the agent reports it gone.
            live[allocationID]?.stopRequestedAt = clock.now()
            live[allocationID]?.stopDelivered = false
            wakeAll(node: live[allocationID]!.node)
        }
        return job
    }

    func events(of id: JobID, for principal: Principal) throws -> [JobEventRecord] {
        guard visibleJob(id, for: principal) != nil else { throw APIError.jobNotFound(id.rawValue) }
        return try database.events(of: id)
    }
}
