/// Node faults: a launch no agent took, a lost node, and processes that are surely gone without a report.
/// None of them is the job's fault, so retries come from the node-fault (infrastructure) budget and never use
/// up `max_retries`. A job is never retried while a copy of it may still run: a LOST job keeps its allocation
/// until `allocationGone` (its lease ran out, its node rebooted, or its agent says it no longer runs it).
extension JobLifecycle {
    /// ALLOCATED, and the agent did not take the launch (the launch lease ran out, or the node was lost first).
    static func launchNotTaken(_ draft: inout LifecycleDraft, reason: String) {
        let now = draft.now
        guard draft.job.state == .allocated, let live = draft.job.liveAttempt else { return }
        let budget = draft.policy.infrastructureRetries
        draft.edit(attempt: live.number) { $0.endedAt = now }
        draft.effect(.release(AllocationID(job: draft.job.id, attempt: live.number)))
        draft.effect(.requestPass)
        if let stop = draft.job.stopRequest, case .cancel(let user) = stop.reason {
            draft.edit(attempt: live.number) { $0.finalState = .canceled }
            draft.move(.cancel(by: user))
        } else if returnsToQueue(draft.job) {
            // It was leaving for a higher tier, or requeued: back in the queue, no budget spent.
            requeueStopped(&draft, attempt: live.number)
        } else if draft.job.infraRetriesUsed < budget {
            draft.job.infraRetriesUsed += 1
            draft.job.stopRequest = nil
            draft.move(
                .launchAbandoned(reason: "\(reason): retry \(draft.job.infraRetriesUsed) of \(budget) (node faults)")
            )
        } else {
            draft.edit(attempt: live.number) { $0.finalState = .failed }
            draft.move(.launchGaveUp(reason: "\(reason), and the infrastructure retry budget (\(budget)) is spent"))
        }
    }

    /// The node went silent (or was revoked): a launch never handed out goes back to the queue; a job that may
    /// be running (a launch handed out included) keeps its allocation until its processes are surely gone,
    /// STARTING and RUNNING ones as LOST.
    static func nodeLost(_ draft: inout LifecycleDraft, node: NodeID, reason: String) {
        guard let live = draft.job.liveAttempt, live.node == node else { return }
        switch draft.job.state {
        case .allocated:
            // Handed to its agent, the launch may have started there: the job waits for the agent's lease like a
            // LOST one (node liveness gives it back once no copy can run). Never handed out: back at once.
            guard draft.context.allocation?.delivered != true else { return }
            launchNotTaken(&draft, reason: "node \(node) was lost before it accepted the launch")
        case .starting, .running:
            draft.edit(attempt: live.number) { $0.finalState = .lost }
            draft.move(.nodeLost(reason: reason))
        default:
            return
        }
    }

    /// The attempt's processes are surely gone, though no exit was reported.
    static func allocationGone(_ draft: inout LifecycleDraft, attempt number: Int, reason: String) {
        let now = draft.now
        let allocation = AllocationID(job: draft.job.id, attempt: number)
        guard let live = draft.job.liveAttempt, live.number == number else {
            // A copy the job has left behind (requeued, or superseded): only its resources were still held.
            draft.effect(.release(allocation))
            draft.effect(.requestPass)
            return
        }
        switch draft.job.state {
        case .lost:
            finishLost(&draft, reason: reason)
        case .starting, .running:
            if let stop = draft.job.stopRequest {
                stopped(&draft, stop, attempt: live, reason: reason)
            } else {
                draft.edit(attempt: number) { $0.finalState = .lost }
                draft.move(.nodeLost(reason: reason))
                finishLost(&draft, reason: "its process is gone (\(reason))")
            }
        case .allocated:
            return  // never taken: the launch is handed out again, or its launch lease runs out
        default:
            // Ended before (a record from an older controller): the attempt ends now, its resources go free.
            draft.edit(attempt: number) { $0.endedAt = now }
            draft.effect(.release(allocation))
            draft.effect(.requestPass)
        }
    }

    /// A job asked to stop whose processes are gone without an exit report: it ends as the request said.
    private static func stopped(_ draft: inout LifecycleDraft, _ stop: StopRequest, attempt: Attempt, reason: String) {
        let now = draft.now
        draft.edit(attempt: attempt.number) { $0.endedAt = now }
        draft.effect(.release(AllocationID(job: draft.job.id, attempt: attempt.number)))
        draft.effect(.requestPass)
        switch stop.reason {
        case .cancel(let user):
            draft.edit(attempt: attempt.number) { $0.finalState = .canceled }
            draft.move(.cancel(by: user))
        case .timeLimit:
            let exit = JobExit(message: reason, timedOut: true)
            draft.edit(attempt: attempt.number) {
                $0.exit = exit
                $0.finalState = .failed
            }
            if draft.job.state == .starting { draft.move(.started(pid: attempt.pid ?? 0)) }
            draft.move(.exited(exit))
            retryIfAllowed(&draft)
        case .preempt, .requeue:
            requeueStopped(&draft, attempt: attempt.number)
        }
    }

    /// A LOST job whose processes are gone: retried from the node-fault budget, or CANCELED when a cancel came
    /// meanwhile; with the budget spent it stays LOST, for good.
    static func finishLost(_ draft: inout LifecycleDraft, reason: String) {
        let now = draft.now
        guard draft.job.state == .lost, let last = draft.job.attempts.last else { return }
        let budget = draft.policy.infrastructureRetries
        if last.endedAt == nil { draft.edit(attempt: last.number) { $0.endedAt = now } }
        draft.effect(.release(AllocationID(job: draft.job.id, attempt: last.number)))
        draft.effect(.requestPass)
        switch draft.job.stopRequest?.reason {
        case .cancel(let user):
            draft.move(.cancel(by: user))
        case .timeLimit:
            draft.job.message = "lost while it was being stopped at its time limit: not retried"
            draft.job.updatedAt = now
            draft.markChanged()
        case .preempt(let preemptor):
            // It was leaving for a higher tier anyway: back in the queue, no budget spent.
            draft.edit(attempt: last.number) { $0.preemptedBy = preemptor }
            draft.job.preemptions += 1
            draft.job.stopRequest = nil
            draft.move(.retry(reason: "\(reason) while it was being preempted by job \(preemptor): back in the queue"))
        case .requeue(let requester):
            draft.job.stopRequest = nil
            draft.move(.retry(reason: "\(reason) while it was being requeued by \(requester.name): back in the queue"))
        case nil where draft.job.infraRetriesUsed < budget:
            draft.job.infraRetriesUsed += 1
            draft.move(.retry(reason: "\(reason): retry \(draft.job.infraRetriesUsed) of \(budget) (node faults)"))
        case nil:
            draft.job.message = "lost, and the infrastructure retry budget (\(budget)) is spent"
            // Its end is now (accounting reads jobs changed in its window by this).
            draft.job.updatedAt = now
            draft.markChanged()
        }
    }
}

/// A node back within its lease (issue 18, the network cut of the fault suite). A LOST job is retried only
/// after its lease, so until then no other copy runs: when its node comes back listing it, or reports its
/// exit, the job ran on all along. It is RUNNING again (or ends by that exit) instead of being stopped and run
/// a second time. Gangs keep the stricter rule: their other ranks were already asked to stop.
extension JobLifecycle {
    /// Whether a LOST job can take its node back: one node, its process had started, nothing asked it to stop.
    public static func mayReconnect(_ job: Job, attempt number: Int) -> Bool {
        guard job.state == .lost, job.stopRequest == nil, let live = job.liveAttempt, live.number == number,
            !live.isGang, live.startedAt != nil
        else { return false }
        return true
    }

    static func reconnected(_ draft: inout LifecycleDraft, attempt number: Int) {
        guard mayReconnect(draft.job, attempt: number), let live = draft.job.liveAttempt else { return }
        draft.edit(attempt: number) { $0.finalState = nil }
        draft.move(.reconnected(live.node))
        draft.effect(.renewLease(AllocationID(job: draft.job.id, attempt: number)))
    }
}
