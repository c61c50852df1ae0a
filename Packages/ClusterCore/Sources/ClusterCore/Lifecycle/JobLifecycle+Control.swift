/// Job control (issue 17): hold, release, requeue and update, with who may do what. Users act on their own
/// jobs (the controller checks ownership before this); the rules here decide what a user may ask for and what
/// only an admin may: a user's change may only make the job wait longer or ask for less, or raise its priority
/// up to what its queue lets anyone submit with.
extension JobLifecycle {
    /// QUEUED -> QUEUED (Held). Holding twice is one hold; an admin's hold over a user's makes it the admin's.
    static func hold(_ draft: inout LifecycleDraft, by requester: Requester) {
        let job = draft.job
        guard job.state == .queued else { return draft.reject(refusal(job.state, .notQueued(job.state))) }
        if let hold = job.hold, hold.byAdmin || !requester.isAdmin { return }
        draft.job.hold = JobHold(by: requester.name, byAdmin: requester.isAdmin, at: draft.now)
        draft.note("held by \(requester.name)\(requester.isAdmin ? " (admin)" : "")")
        draft.job.pendingReason = .held
        draft.effect(.requestPass)
    }

    static func release(_ draft: inout LifecycleDraft, by requester: Requester) {
        let job = draft.job
        guard job.state == .queued else { return draft.reject(refusal(job.state, .notQueued(job.state))) }
        guard let hold = job.hold else { return draft.reject(.notHeld) }
        guard !hold.byAdmin || requester.isAdmin else {
            return draft.reject(
                .notAllowed("job \(job.id) was held by an admin (\(hold.by)): only an admin can release it")
            )
        }
        draft.job.hold = nil
        draft.note("released by \(requester.name)")
        draft.job.pendingReason = .resources
        draft.effect(.requestPass)
    }

    /// A placed job is stopped (SIGTERM, its kill grace, SIGKILL; the checkpoint signal first) and goes back
    /// to QUEUED at its place once its processes are gone, spending no retry budget. Asking again while it is
    /// being stopped to come back (a requeue, a preemption) changes nothing, but for `hold`. With `hold` the
    /// hold is taken now, whichever way it comes back (this requeue, a preemption, a node fault): every move
    /// to QUEUED of a job with a hold gives it reason Held (`LifecycleDraft.move`). A job being stopped for
    /// good (a cancel, its time limit) is refused.
    static func requeue(_ draft: inout LifecycleDraft, by requester: Requester, hold: Bool) {
        let job = draft.job
        guard job.state.isPlaced else { return draft.reject(refusal(job.state, .notPlaced(job.state))) }
        if let stop = job.stopRequest, !returnsToQueue(job) {
            return draft.reject(.alreadyStopping(stop.description))
        }
        let takesHold = hold && (job.hold == nil || (requester.isAdmin && job.hold?.byAdmin == false))
        if takesHold { draft.job.hold = JobHold(by: requester.name, byAdmin: requester.isAdmin, at: draft.now) }
        guard job.stopRequest == nil else {
            if takesHold { draft.note("to be held by \(requester.name) once back in the queue") }
            return
        }
        stopToRequeue(&draft, StopRequest(.requeue(requester), at: draft.now))
    }

    /// Stops a placed job that goes back to the queue afterwards (a preemption, a requeue). A launch its agent
    /// never had is given back at once; a gang is stopped whole.
    static func stopToRequeue(_ draft: inout LifecycleDraft, _ request: StopRequest) {
        let job = draft.job
        guard job.state.isPlaced, job.stopRequest == nil, let live = job.liveAttempt else { return }
        draft.job.stopRequest = request
        if live.isGang {
            draft.note("\(request.description): stopping its ranks")
            return stopLiveRanks(&draft)
        }
        let allocation = AllocationID(job: job.id, attempt: live.number)
        if job.state == .allocated, draft.context.allocation?.delivered != true {
            // Nothing runs yet: the resources are free at once.
            draft.effect(.release(allocation))
            let now = draft.now
            draft.editLive { $0.endedAt = now }
            return requeueStopped(&draft, attempt: live.number)
        }
        draft.note("\(request.description): stopping its processes")
        draft.effect(.stop(allocation))
        draft.effect(.wake(live.node))
    }

    /// Whether the job's stop request sends it back to the queue (a preemption or a requeue).
    public static func returnsToQueue(_ job: Job) -> Bool {
        switch job.stopRequest?.reason {
        case .preempt?, .requeue?: true
        default: false
        }
    }

    /// The stopped attempt's processes are gone: back to the queue, at its place, its retries untouched.
    static func requeueStopped(_ draft: inout LifecycleDraft, attempt number: Int) {
        switch draft.job.stopRequest?.reason {
        case .preempt(let preemptor)?:
            requeuePreempted(&draft, attempt: number, by: preemptor)
        case .requeue(let requester)?:
            draft.edit(attempt: number) { $0.finalState = .queued }
            draft.job.stopRequest = nil
            draft.move(.requeued(by: requester.name))
            draft.effect(.requestPass)
        default:
            return
        }
    }

    /// A new time limit or priority. Users may lower a time limit (or set one where there was none) and set a
    /// priority up to their queue's `max_priority`, or lower it; admins may do anything. A placed job's node
    /// enforces the limit it started with, so its limit may only be lowered (the controller's backstop
    /// enforces the lower one).
    static func update(_ draft: inout LifecycleDraft, _ update: JobUpdate, by requester: Requester, maxPriority: Int) {
        let job = draft.job
        guard !job.state.isFinished else { return draft.reject(.alreadyFinished(job.state)) }
        var spec = job.spec
        var changes: [String] = []
        if let limit = update.timeLimit, limit != spec.timeLimit {
            guard limit > 0, limit <= SpecLimits.maxTimeLimit else {
                return draft.reject(
                    .invalid(field: "time_limit", "must be between 1 and \(SpecLimits.maxTimeLimit) seconds")
                )
            }
            if let old = spec.timeLimit, limit > old {
                guard requester.isAdmin else {
                    return draft.reject(.notAllowed("only an admin can raise a job's time limit (it is \(old) s)"))
                }
                guard !job.state.isPlaced else {
                    return draft.reject(
                        .notAllowed(
                            "job \(job.id) is \(job.state): its node enforces the time limit it started with (\(old) s); "
                                + "a placed job's limit can only be lowered"
                        )
                    )
                }
            }
            changes.append("time limit \(spec.timeLimit.map { "\($0) s" } ?? "none") -> \(limit) s")
            spec.timeLimit = limit
        }
        if let priority = update.priority, priority != spec.priority {
            guard SpecLimits.priorityRange.contains(priority) else {
                let range = SpecLimits.priorityRange
                return draft.reject(
                    .invalid(field: "priority", "must be between \(range.lowerBound) and \(range.upperBound)")
                )
            }
            if !requester.isAdmin, priority > spec.priority, priority > maxPriority {
                return draft.reject(
                    .notAllowed(
                        "priority \(priority) is above queue \(spec.queue)'s maximum for users (\(maxPriority))"
                    )
                )
            }
            changes.append("priority \(spec.priority) -> \(priority)")
            spec.priority = priority
        }
        guard !changes.isEmpty else { return }
        draft.job.spec = spec
        draft.outcome.specChanged = true
        draft.note("updated by \(requester.name): \(changes.joined(separator: ", "))")
        draft.effect(.requestPass)
    }

    /// A finished job's refusal says so; otherwise `other`.
    private static func refusal(_ state: JobState, _ other: LifecycleRejection) -> LifecycleRejection {
        state.isFinished ? .alreadyFinished(state) : other
    }
}
