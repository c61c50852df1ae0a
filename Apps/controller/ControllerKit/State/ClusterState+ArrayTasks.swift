import ClusterCore
import ClusterStore
import CorralSupport

/// What memory knows of an array's tasks once some have left it (issue 16): the tasks it holds, in index order,
/// and how many left, by the state they ended in (final: a task leaves memory only once it ended for good).
struct ArrayTasks {
    var held: [Job]
    var left: [JobState: Int]
    /// A task of the array (for its owner), held or not.
    var anyTask: JobID

    var count: Int { held.count + left.values.reduce(0, +) }
}

extension ClusterState {
    /// A task leaves memory: it is counted among the array's tasks out of memory. An array all of whose tasks
    /// left is forgotten: SQLite answers for it (`arrayTasks(of:)`).
    func taskLeftMemory(_ job: Job, of array: JobID) {
        guard let index = arrayTasks[array]?.firstIndex(of: job.id) else { return }
        arrayTasks[array]?.remove(at: index)
        if arrayTasks[array]?.isEmpty == true {
            arrayTasks[array] = nil
            arrayLeft[array] = nil
        } else {
            arrayLeft[array, default: [:]][job.state, default: 0] += 1
        }
    }

    /// At start: the tasks of the arrays partly loaded that stayed in SQLite, by state.
    func countTasksLeft() throws {
        for (array, tasks) in arrayTasks {
            guard let total = tasks.first.flatMap({ jobs[$0] })?.array?.count, tasks.count < total else { continue }
            let held = Set(tasks)
            for task in try database.arrayTaskStates(array) where !held.contains(task.id) {
                arrayLeft[array, default: [:]][task.state, default: 0] += 1
            }
        }
    }

    /// The array's tasks as memory knows them, or from SQLite for an array wholly out of memory (and always on a
    /// standby, whose copy may be a second old); nil when there is no such array.
    func arrayTasks(of id: JobID) -> ArrayTasks? {
        if !mirror, let tasks = arrayTasks[id], let first = tasks.first {
            return ArrayTasks(held: tasks.compactMap { jobs[$0] }, left: arrayLeft[id] ?? [:], anyTask: first)
        }
        guard let stored = storedArrayTasks(id), let first = stored.first else { return nil }
        var result = ArrayTasks(held: [], left: [:], anyTask: first.id)
        for task in stored { result.left[task.state, default: 0] += 1 }
        return result
    }

    /// The array's tasks in index order with their states, from SQLite; nil when there are none (or they cannot
    /// be read, which is logged).
    func storedArrayTasks(_ id: JobID) -> [(id: JobID, state: JobState)]? {
        // The id goes into a GLOB pattern: only the id alphabet, which has no wildcard.
        guard JobID.isValid(id.rawValue) else { return nil }
        do {
            let stored = try database.arrayTaskStates(id)
            return stored.isEmpty ? nil : stored
        } catch {
            log.error("cannot read the tasks of array \(id) from the database: \(error)")
            storeReadFaults += 1
            return nil
        }
    }

    /// A job array as a dependency: SUCCEEDED once every task did, the state of a task that ended for good
    /// without succeeding, else RUNNING (not finished); nil when no such array exists.
    func arrayState(_ id: JobID) -> JobState? {
        guard let tasks = arrayTasks(of: id) else { return nil }
        var allSucceeded = tasks.left.keys.allSatisfy { $0 == .succeeded }
        for job in tasks.held {
            let state = job.state
            if state == .failed || state == .canceled || (state == .lost && job.liveAttempt == nil) { return state }
            if state != .succeeded { allSucceeded = false }
        }
        for state in [JobState.failed, .canceled, .lost] where (tasks.left[state] ?? 0) > 0 { return state }
        return allSucceeded ? .succeeded : .running
    }
}
