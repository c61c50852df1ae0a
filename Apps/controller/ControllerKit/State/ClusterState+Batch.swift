import ClusterCore
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
        if let idempotency, let first = try replay(idempotency, user: user) {
            guard let start = orderIndex[first], start + entries.count <= jobOrder.count else {
                throw ClusterError.idempotencyKeyReused(idempotency.key)
            }
            return jobOrder[start..<start + entries.count].compactMap { jobs[$0] }
        }
        for entry in entries { try checkQueue(entry.spec.queue) }
        let now = clock.now()
        var changes = ChangeSet()
        var made: [JobID] = []
        var taken = Set<JobID>()
        for entry in entries {
            var id = JobID.random()
            while jobs[id] != nil || taken.contains(id) || submitBatch.contains(where: { $0.job.id == id }) {
                id = JobID.random()
            }
            taken.insert(id)
            var job = Job(id: id, spec: entry.spec, user: user, submittedAt: now)
            job.unixUser = unixUser
            if entry.hold { job.hold = JobHold(by: user, byAdmin: principal.isAdmin, at: now) }
            _ = stage(new: job, in: &changes)
            made.append(id)
        }
        if let idempotency, let first = made.first {
            changes.idempotency = [idempotency.record(user: user, job: first, at: now)]
        }
        do {
            try commit(changes)
        } catch {
            log.error("cannot store a batch of \(entries.count) job(s): \(error)")
            throw error
        }
        return made.compactMap { jobs[$0] }
    }
}
