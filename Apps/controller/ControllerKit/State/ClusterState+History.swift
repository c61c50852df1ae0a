import ClusterCore
import ClusterStore
import CorralSupport

/// Finished jobs in memory are a window (issue 16): the newest `finished_jobs_in_memory` of them. Older ones are
/// read from SQLite when asked for: shown, listed, depended on, counted. A job leaves memory only once it ended
/// for good with no attempt live, so nothing the scheduler, liveness or an agent works on is read from disk.
extension ClusterState {
    /// Whether a job may leave memory: it ended, and nothing of it may still run.
    static func leavesMemory(_ job: Job) -> Bool { job.state.isFinished && job.liveAttempt == nil }

    /// Lets the oldest finished jobs leave memory until the window holds no more than the setting.
    func forgetOldFinishedJobs() {
        let window = settings.finishedJobsInMemory
        while finishedOrder.count - finishedHead > window {
            let id = finishedOrder[finishedHead]
            finishedHead += 1
            // Gone already, or running again: its place in the order is void (a job that finishes twice may
            // leave at its first place, a little early).
            guard let job = jobs[id], Self.leavesMemory(job) else { continue }
            jobs[id] = nil
            if let task = job.array {
                arrayTasks[task.array]?.removeAll { $0 == id }
                if arrayTasks[task.array]?.isEmpty == true { arrayTasks[task.array] = nil }
            }
        }
        if finishedHead > 1024 && finishedHead * 2 > finishedOrder.count {
            finishedOrder.removeFirst(finishedHead)
            finishedHead = 0
        }
    }

    /// A job out of memory, as stored; nil when there is none (or it cannot be read, which is logged).
    func storedJob(_ id: JobID) -> Job? {
        guard JobID.isValid(id.rawValue) else { return nil }
        do {
            return try database.loadJob(id)
        } catch {
            log.error("cannot read job \(id) from the database: \(error)")
            return nil
        }
    }

    /// A job in memory, else as stored.
    func anyJob(_ id: JobID) -> Job? { jobs[id] ?? storedJob(id) }

    /// The state of a job or an array that others depend on; nil when there is none. A finished job out of
    /// memory is read once: its state cannot change any more.
    func dependencyState(_ id: JobID) -> JobState? {
        if let job = jobs[id] { return job.state }
        if let state = storedStates[id] { return state }
        if let state = arrayState(id) {
            // An array wholly out of memory has ended for good.
            if arrayTasks[id] == nil { storedStates[id] = state }
            return state
        }
        guard let state = storedJob(id)?.state else { return nil }
        if storedStates.count >= 10_000 { storedStates.removeAll() }
        storedStates[id] = state
        return state
    }

    /// A job array as a dependency: SUCCEEDED once every task did, the state of a task that ended for good
    /// without succeeding, else RUNNING (not finished); nil when no such array exists.
    func arrayState(_ id: JobID) -> JobState? {
        guard let tasks = arrayTaskStates(id) else { return nil }
        var allSucceeded = true
        for (_, state, live) in tasks {
            if state == .failed || state == .canceled || (state == .lost && !live) { return state }
            if state != .succeeded { allSucceeded = false }
        }
        return allSucceeded ? .succeeded : .running
    }

    /// The tasks of an array in index order, each with its state and whether an attempt of it is live: from
    /// memory while every task is there, else from SQLite (tasks out of memory ended for good) with memory's
    /// version of the others. Nil when there is no such array.
    func arrayTaskStates(_ id: JobID) -> [(id: JobID, state: JobState, live: Bool)]? {
        if let tasks = arrayTasks[id], let first = tasks.first.flatMap({ jobs[$0] }),
            tasks.count == first.array?.count
        {
            return tasks.compactMap { jobs[$0] }.map { ($0.id, $0.state, $0.liveAttempt != nil) }
        }
        // The id goes into a GLOB pattern: only the id alphabet, which has no wildcard.
        guard JobID.isValid(id.rawValue) else { return nil }
        let stored: [(id: JobID, state: JobState)]
        do {
            stored = try database.arrayTaskStates(id)
        } catch {
            log.error("cannot read the tasks of array \(id) from the database: \(error)")
            return nil
        }
        guard !stored.isEmpty else { return nil }
        return stored.map { task in
            if let job = jobs[task.id] { return (task.id, job.state, job.liveAttempt != nil) }
            return (task.id, task.state, false)
        }
    }
}
