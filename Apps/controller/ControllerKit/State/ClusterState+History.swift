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
            jobEnds.remove(id)
            if let task = job.array { taskLeftMemory(job, of: task.array) }
            // An allocation outliving its job's memory would now be read without the job (no owner, no
            // end): the scheduler's kept ledger reads it so too, as a pass building it from scratch would.
            refreshHeld(of: [id])
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
            storeReadFaults += 1
            return nil
        }
    }

    /// A job in memory, else as stored. A standby's copy reads it as stored each time: a job's own reads are
    /// never behind what the leader answered (a job submitted a moment ago, a state it reported since).
    func anyJob(_ id: JobID) -> Job? { mirror ? storedJob(id) : (jobs[id] ?? storedJob(id)) }

    /// A new job id, after every one this controller made (`JobID.nextNumber`: ids in the order they are made), so
    /// none given out but not stored yet (a batch waiting for its commit); and no job's, in memory or stored (a
    /// clock that stepped back across a restart), nor what `alsoTaken` names (an array's id, which no job has).
    func newJobID(alsoTaken: (JobID) -> Bool = { _ in false }) -> JobID {
        var generator = SystemRandomNumberGenerator()
        while true {
            lastJobNumber = JobID.nextNumber(after: lastJobNumber, at: clock.now(), using: &generator)
            let id = JobID(ordered: lastJobNumber)
            if !isTaken(id) && !alsoTaken(id) { return id }
        }
    }

    /// Whether a new job may not take this id: a job has it, in memory or stored. A store that cannot be read
    /// says no (logged): the insert's primary key refuses a duplicate anyway, and saying yes would spin.
    func isTaken(_ id: JobID) -> Bool {
        if jobs[id] != nil { return true }
        do {
            return try database.hasJob(id)
        } catch {
            log.error("cannot look up job id \(id) in the database: \(error)")
            return false
        }
    }

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
}
