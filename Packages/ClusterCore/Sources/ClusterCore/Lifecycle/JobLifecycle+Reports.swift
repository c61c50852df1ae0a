/// The agent's reports on an attempt: accepted (STARTING), started (RUNNING), ended. Reports are idempotent:
/// a repeat changes nothing, and a report on an attempt the job has left is recorded as refused.
extension JobLifecycle {
    static func accepted(_ draft: inout LifecycleDraft, attempt: Int) {
        guard let live = draft.job.liveAttempt, live.number == attempt else { return }
        if draft.job.state == .allocated { draft.move(.accepted) }
        if draft.job.state.isPlaced { draft.effect(.renewLease(AllocationID(job: draft.job.id, attempt: attempt))) }
    }

    /// STARTING while its node stages its sources: the first report is an event ("staging: ..."), the next
    /// ones only the message (the copy's progress, in `corral show`); `started` replaces it.
    static func staging(_ draft: inout LifecycleDraft, attempt: Int, progress: String) {
        accepted(&draft, attempt: attempt)
        guard draft.job.liveAttempt?.number == attempt, draft.job.state == .starting else { return }
        let message = "staging: \(progress.prefix(300))"
        if draft.job.message?.hasPrefix("staging: ") == true {
            guard draft.job.message != message else { return }
            draft.job.message = message
            draft.job.updatedAt = draft.now
            draft.markChanged()
        } else {
            draft.note(message)
        }
    }

    static func started(_ draft: inout LifecycleDraft, attempt: Int, pid: Int32) {
        let now = draft.now
        guard let live = draft.job.liveAttempt, live.number == attempt else { return }
        // Reports arrive in order, so a STARTING one came first; should it ever be missing, the process still ran.
        if draft.job.state == .allocated { draft.move(.accepted) }
        if draft.job.state == .starting {
            draft.editLive {
                $0.pid = pid
                $0.startedAt = now
            }
            draft.move(.started(pid: pid))
        }
        if draft.job.state.isPlaced { draft.effect(.renewLease(AllocationID(job: draft.job.id, attempt: attempt))) }
    }

    /// The attempt's processes are gone: record how they ended, free what they held, and decide the job.
    static func ended(_ draft: inout LifecycleDraft, attempt number: Int, _ end: AttemptEnd) {
        let now = draft.now
        guard let attempt = draft.job.attempts.first(where: { $0.number == number }) else { return }
        guard attempt.endedAt == nil else {
            // Ended here before its agent could say how (a lost node's lease ran out, a launch given up): the
            // report is late, not a repeat, when the attempt has no exit yet. Keep it, change nothing else.
            guard attempt.exit == nil else { return }  // a repeat of a report already taken
            draft.edit(attempt: number) {
                $0.exit = end.exit
                if let final = end.usage { $0.usage = $0.usage.map { $0.ended(with: final) } ?? final }
            }
            let what = end.kind == .launchFailed ? "launch failed" : JobStateMachine.describe(end.exit)
            draft.refuse(
                "late report '\(what)' for an attempt that had already ended",
                attempt: number,
                node: attempt.node
            )
            return
        }
        let allocation = AllocationID(job: draft.job.id, attempt: number)
        let isLive = draft.job.liveAttempt?.number == number
        // A LOST job's node is back within the lease and says how it ended: that is the job's end (it ran on).
        let reconnects = end.kind == .exited && mayReconnect(draft.job, attempt: number)
        var exit = end.exit
        if end.kind == .exited, isLive, draft.job.stopRequest?.reason == .timeLimit { exit.timedOut = true }
        draft.edit(attempt: number) {
            $0.exit = exit
            $0.endedAt = now
            if let final = end.usage { $0.usage = $0.usage.map { $0.ended(with: final) } ?? final }
        }
        draft.effect(.release(allocation))
        draft.effect(.requestPass)
        let state = draft.job.state
        guard isLive, state.isPlaced || state == .lost else {
            // The job moved on (canceled before this change, requeued, ended): the attempt's end is kept, the
            // report changes nothing else.
            let what = end.kind == .launchFailed ? "launch failed" : JobStateMachine.describe(exit)
            draft.refuse("late report '\(what)' for a \(state) job", attempt: number, node: attempt.node)
            return
        }
        if state == .lost {
            guard reconnects else {
                finishLost(&draft, reason: "the agent confirmed its process ended")
                return
            }
            draft.edit(attempt: number) { $0.finalState = nil }
            draft.move(.reconnected(attempt.node))
        }
        if end.kind == .fenced || end.kind == .nodeFault {
            draft.edit(attempt: number) { $0.finalState = .lost }
            if draft.job.state == .allocated { draft.move(.accepted) }
            let reason =
                end.kind == .fenced
                ? "fenced on \(attempt.node): \(exit.message ?? "its agent could not renew the lease")"
                : "could not be launched on \(attempt.node): \(exit.message ?? "a fault of the node")"
            draft.move(.nodeLost(reason: reason))
            finishLost(&draft, reason: "the agent confirmed its process ended")
        } else if returnsToQueue(draft.job), !(end.kind == .exited && exit.isSuccess) {
            // Stopped for a higher tier, or requeued. One that ended with exit 0 anyway (its last step done in
            // time) is done: running it again would repeat what it did.
            requeueStopped(&draft, attempt: number)
        } else if let stop = draft.job.stopRequest, case .cancel(let user) = stop.reason {
            draft.edit(attempt: number) { $0.finalState = .canceled }
            draft.move(.cancel(by: user))
        } else if end.kind == .launchFailed && state != .running {
            if draft.job.state == .allocated { draft.move(.accepted) }
            draft.edit(attempt: number) { $0.finalState = .failed }
            draft.move(.launchFailed(message: exit.message ?? "unknown error"))
            retryIfAllowed(&draft)
        } else {
            if draft.job.state == .allocated { draft.move(.accepted) }
            if draft.job.state == .starting { draft.move(.started(pid: attempt.pid ?? 0)) }
            draft.edit(attempt: number) { $0.finalState = exit.isSuccess && end.kind == .exited ? .succeeded : .failed }
            draft.move(.exited(exit))
            retryIfAllowed(&draft)
        }
    }

    /// The job's own failure (non-zero exit, signal, launch failure, time limit): retried while
    /// `max_retries` lasts, as a new attempt.
    static func retryIfAllowed(_ draft: inout LifecycleDraft) {
        let job = draft.job
        guard job.state == .failed, job.retriesUsed < job.spec.maxRetries else { return }
        draft.job.retriesUsed += 1
        draft.job.stopRequest = nil
        let wait = draft.policy.backoff(beforeRetry: draft.job.retriesUsed)
        draft.job.notBefore = draft.now + wait
        draft.move(
            .retry(reason: "retry \(draft.job.retriesUsed) of \(job.spec.maxRetries), not before \(wait) from now")
        )
        if wait > .zero { draft.job.pendingReason = .backoff }
        draft.effect(.requestPass)
    }
}
