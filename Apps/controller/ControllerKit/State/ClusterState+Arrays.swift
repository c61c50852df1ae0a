import ClusterCore
import ClusterWire
import CorralSupport

/// Job arrays: one submission, many tasks (`<array>_<index>`), each a job of its own; the array id stands for
/// all of them in cancel, listings and `depends_on`. Also the submit-time check of dependencies.
extension ClusterState {
    /// Stores every task of the array in one transaction, then answers. The tasks share the submission time,
    /// so they run in index order among themselves.
    func submitArray(
        _ spec: JobSpec,
        _ array: ArraySpec,
        user: String,
        unixUser: String?,
        hold: JobHold? = nil,
        idempotency: IdempotencyRequest? = nil
    ) throws -> JobID {
        try checkQueue(spec.queue)
        if let idempotency {
            if let existing = try replay(idempotency, user: user) { return existing }
            try refusePendingKey(idempotency, user: user)
        }
        let id = newJobID { id in self.arrayTasks(of: id) != nil }
        let now = clock.now()
        var changes = ChangeSet()
        for index in array.indices {
            var job = Job(id: ArrayTask.taskID(array: id, index: index), spec: spec, user: user, submittedAt: now)
            job.unixUser = unixUser
            job.hold = hold
            job.array = ArrayTask(array: id, index: index, count: array.indices.count, limit: array.limit)
            _ = stage(new: job, in: &changes)
        }
        if let idempotency { changes.idempotency = [idempotency.record(user: user, job: id, at: now)] }
        do {
            try commit(changes)
        } catch {
            log.error("cannot store array \(id) of \(array.indices.count) task(s): \(error)")
            throw error
        }
        return id
    }

    /// A dependency must be a job or an array the user can see; an unknown id and another user's job are
    /// refused alike, so nobody learns how someone else's job ended, or that it exists.
    func checkDependencies(_ ids: [JobID], for principal: Principal) throws(ClusterError) {
        for id in ids {
            if visibleJob(id, for: principal) != nil { continue }
            if visibleArray(id, for: principal) != nil { continue }
            throw .unknownDependency(id.rawValue)
        }
    }

    /// The tasks of an array the principal may see (those in memory, and how many left it); nil when there is
    /// no such array for them.
    func visibleArray(_ id: JobID, for principal: Principal) -> ArrayTasks? {
        guard let tasks = arrayTasks(of: id), visibleJob(tasks.anyTask, for: principal) != nil else { return nil }
        return tasks
    }

    /// How many of the array's tasks are in each state.
    func summary(ofArray id: JobID) -> ArraySummaryView? {
        guard let tasks = arrayTasks(of: id), let any = tasks.held.first ?? anyJob(tasks.anyTask) else { return nil }
        var states: [String: Int] = [:]
        for job in tasks.held { states[job.state.rawValue, default: 0] += 1 }
        for (state, count) in tasks.left { states[state.rawValue, default: 0] += count }
        return ArraySummaryView(arrayId: id.rawValue, tasks: tasks.count, limit: any.array?.limit, states: states)
    }

    /// Cancels every task of the array that has not ended, in one transaction. Tasks out of memory have ended.
    func cancelArray(_ id: JobID, by principal: Principal) throws -> ArrayCancelResponse {
        guard let tasks = visibleArray(id, for: principal) else { throw ClusterError.jobNotFound(id.rawValue) }
        var changes = ChangeSet()
        var canceled = 0
        var finished = tasks.count - tasks.held.count
        for task in tasks.held {
            guard let outcome = stage(.cancel(by: principal.subject), job: task.id, in: &changes) else { continue }
            if outcome.rejection != nil || task.state == .canceled { finished += 1 } else { canceled += 1 }
        }
        try commit(changes)
        return ArrayCancelResponse(arrayId: id.rawValue, canceled: canceled, alreadyFinished: finished)
    }

    /// `list`, as views: with `collapseArrays`, an array's first task listed stands for the whole array.
    func listViews(_ query: ListQuery, for principal: Principal) throws -> ([JobView], JobID?) {
        let (found, next) = try list(query, for: principal)
        return (
            found.map { job in
                var view = JobView(job)
                if query.collapseArrays, let task = job.array { view.arraySummary = summary(ofArray: task.array) }
                return view
            }, next
        )
    }

    /// `GET /v1/jobs/{array}`: the array's first task, with the array's counts.
    func arrayView(_ id: JobID, for principal: Principal) -> JobView? {
        guard let tasks = visibleArray(id, for: principal) else { return nil }
        // The first task by index: memory's first while every task is there, else SQLite's.
        let first =
            tasks.left.isEmpty ? tasks.held.first : storedArrayTasks(id)?.first.flatMap { anyJob($0.id) }
        guard let first else { return nil }
        var view = JobView(first)
        view.arraySummary = summary(ofArray: id)
        return view
    }
}
