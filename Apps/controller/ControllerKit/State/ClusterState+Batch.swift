import ClusterCore
import ClusterStore
import CorralSupport

/// Batch submission (issue 16): many jobs staged and committed in one transaction, so they are all stored or
/// none, and stored next to each other (an `Idempotency-Key` replay finds them from the first one's place).
extension ClusterState {
    struct BatchEntry: Sendable {
        let spec: JobSpec
        let hold: Bool
    }

    func submitBatch(
        _ entries: [BatchEntry],
        user principal: Principal,
        unixUser: String?,
        idempotency: IdempotencyRequest?
    ) throws -> [Job] {
        let user = principal.subject
        if let idempotency {
            if let record = try replayRecord(idempotency, user: user) {
                // The batch's own jobs, by the ids stored with the key (never another user's).
                let made = record.jobs.compactMap(anyJob).filter { $0.user == user }
                guard made.count == entries.count else { throw ClusterError.idempotencyKeyReused(idempotency.key) }
                return made
            }
            try refusePendingKey(idempotency, user: user)
        }
        for entry in entries { try checkQueue(entry.spec.queue) }
        let now = clock.now()
        var changes = ChangeSet()
        var made: [JobID] = []
        for entry in entries {
            let id = newJobID()
            var job = Job(id: id, spec: entry.spec, user: user, submittedAt: now)
            job.unixUser = unixUser
            if entry.hold { job.hold = JobHold(by: user, byAdmin: principal.isAdmin, at: now) }
            _ = stage(new: job, in: &changes)
            made.append(id)
        }
        if let idempotency {
            changes.idempotency = [
                IdempotencyRecord(
                    user: user,
                    key: idempotency.key,
                    requestHash: idempotency.requestHash,
                    jobs: made,
                    createdAt: now
                )
            ]
        }
        do {
            try commit(changes)
        } catch {
            log.error("cannot store a batch of \(entries.count) job(s): \(error)")
            throw error
        }
        forgetOldIdempotencyKeys()
        return made.compactMap(anyJob)
    }
}
