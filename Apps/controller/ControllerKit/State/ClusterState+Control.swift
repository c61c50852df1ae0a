import ClusterCore
import ClusterWire

/// Job control (issue 17): hold, release, requeue and update, for one job or every task of an array. The
/// lifecycle decides what is allowed; here a refusal becomes a `ClusterError` and changes nothing.
extension ClusterState {
    enum ControlAction: Sendable {
        case hold
        case release
        /// Requeue, held once back when `hold`.
        case requeue(hold: Bool)
        case update(JobUpdate)

        var name: String {
            switch self {
            case .hold: "hold"
            case .release: "release"
            case .requeue: "requeue"
            case .update: "update"
            }
        }
    }

    func control(_ id: JobID, _ action: ControlAction, by principal: Principal) throws -> Job {
        guard let job = visibleJob(id, for: principal) else { throw ClusterError.jobNotFound(id.rawValue) }
        var changes = ChangeSet()
        guard let outcome = stage(event(action, for: job, by: principal), job: id, in: &changes) else {
            throw ClusterError.jobNotFound(id.rawValue)
        }
        if let rejection = outcome.rejection { throw ClusterError.refused(id, action.name, rejection) }
        try commit(changes)
        return jobs[id] ?? outcome.job
    }

    /// Every task of an array the action applies to; the others (a finished task, a running one for a hold)
    /// are counted as skipped. A refusal of the requester (`notAllowed`, `invalid`) refuses the whole array.
    func controlArray(_ id: JobID, _ action: ControlAction, by principal: Principal) throws -> ArrayControlResponse {
        guard let tasks = visibleArray(id, for: principal) else { throw ClusterError.jobNotFound(id.rawValue) }
        var changes = ChangeSet()
        var changed = 0
        // A task out of memory has ended: nothing applies to it.
        var skipped = tasks.count - tasks.held.count
        for job in tasks.held {
            guard let outcome = stage(event(action, for: job, by: principal), job: job.id, in: &changes) else {
                continue
            }
            switch outcome.rejection {
            case nil where outcome.storage == .durable: changed += 1
            case nil, .alreadyFinished?, .notQueued?, .notPlaced?, .notHeld?, .alreadyStopping?: skipped += 1
            case let rejection?: throw ClusterError.refused(job.id, action.name, rejection)
            }
        }
        try commit(changes)
        return ArrayControlResponse(arrayId: id.rawValue, action: action.name, changed: changed, skipped: skipped)
    }

    private func event(_ action: ControlAction, for job: Job, by principal: Principal) -> LifecycleEvent {
        let requester = Requester(principal.subject, isAdmin: principal.isAdmin)
        switch action {
        case .hold: return .hold(by: requester)
        case .release: return .release(by: requester)
        case .requeue(let hold): return .requeue(by: requester, hold: hold)
        case .update(let update):
            return .update(update, by: requester, maxPriority: settings.policy.queue(named: job.spec.queue).maxPriority)
        }
    }

    /// A user's job may not ask for a priority above its queue's `max_priority` (admins may): a priority is
    /// not a way around the fair share.
    nonisolated func checkPriority(_ spec: JobSpec, for principal: Principal) throws(ClusterError) {
        let queue = settings.policy.queue(named: spec.queue)
        guard !principal.isAdmin, spec.priority > queue.maxPriority else { return }
        throw .refused(
            nil,
            "submit",
            .notAllowed(
                "priority \(spec.priority) is above queue \(queue.name)'s maximum for users (\(queue.maxPriority))"
            )
        )
    }
}
