/// The job lifecycle of docs/job-states.md as one pure function: the job, an event and the context in; the
/// job's next version, the event records to append and the effects to carry out out. Nothing else in Corral
/// changes a job's state or its attempts: the controller stores the outcome and carries the effects out.
///
/// The rules, by event (edges are `JobStateMachine.edges`):
/// - submitted: the first QUEUED record.
/// - placed: QUEUED -> ALLOCATED, a new attempt, its allocation held, its node woken.
/// - accepted, started: ALLOCATED -> STARTING -> RUNNING for the live attempt; a repeat renews the lease.
/// - ended: the attempt's processes are gone. Its exit and usage are recorded; its allocation is released.
///   Then, for the live attempt: a pending cancel ends the job CANCELED; fencing makes it LOST and retried
///   from the node-fault budget; a launch failure or a failed exit is FAILED and retried from the job's own
///   budget; exit 0 is SUCCEEDED. A report for an attempt the job has left is recorded as refused.
/// - cancel: QUEUED, or ALLOCATED before the agent had it, end CANCELED at once. A placed job that may be
///   running gets a stop request and ends CANCELED only when its processes are gone.
/// - launch lease expired, or node lost before a launch was handed out: back to QUEUED from the node-fault
///   budget (FAILED once it is spent, CANCELED when a cancel is pending). A launch handed to a lost node's
///   agent waits, like a LOST job, until node liveness finds no copy can run.
/// - node lost: STARTING or RUNNING -> LOST; its allocation stays held until its processes are surely gone
///   (`allocationGone`), then the job is retried from the node-fault budget, or ends CANCELED if a cancel is
///   pending.
/// - time limit: a stop request; the job ends FAILED (TIMEOUT) when its processes are gone.
/// - dependency failed: QUEUED -> FAILED.
public enum JobLifecycle {
    public static func handle(_ event: LifecycleEvent, job: Job, context: LifecycleContext) -> LifecycleOutcome {
        var draft = LifecycleDraft(job, context)
        switch event {
        case .submitted: submitted(&draft)
        case .placed(let node, let gpus): placed(&draft, node: node, gpus: gpus)
        case .placedGang(let ranks, let port): placedGang(&draft, ranks, port: port)
        case .accepted(let attempt, let rank):
            if draft.isGang(attempt) {
                gangAccepted(&draft, attempt: attempt, rank: rank)
            } else if rank == 0 {
                accepted(&draft, attempt: attempt)
            }
        case .staging(let attempt, let progress, let rank):
            if draft.isGang(attempt) {
                gangAccepted(&draft, attempt: attempt, rank: rank)
            } else if rank == 0 {
                staging(&draft, attempt: attempt, progress: progress)
            }
        case .started(let attempt, let pid, let rank):
            if draft.isGang(attempt) {
                gangStarted(&draft, attempt: attempt, rank: rank, pid: pid)
            } else if rank == 0 {
                started(&draft, attempt: attempt, pid: pid)
            }
        case .ended(let attempt, let end, let rank):
            if draft.isGang(attempt) {
                gangEnded(&draft, attempt: attempt, rank: rank, end)
            } else if rank == 0 {
                ended(&draft, attempt: attempt, end)
            }
        case .sampled(let attempt, let usage, let rank):
            if draft.isGang(attempt) {
                gangSampled(&draft, attempt: attempt, rank: rank, usage)
            } else if rank == 0 {
                sampled(&draft, attempt: attempt, usage)
            }
        case .cancel(let user):
            if draft.job.liveAttempt?.isGang == true { gangCancel(&draft, by: user) } else { cancel(&draft, by: user) }
        case .launchLeaseExpired(let reason, let rank):
            if draft.job.liveAttempt?.isGang == true {
                gangLaunchNotTaken(&draft, rank: rank, reason: reason)
            } else {
                launchNotTaken(&draft, reason: reason)
            }
        case .nodeLost(let node, let reason):
            if draft.job.liveAttempt?.isGang == true {
                gangNodeLost(&draft, node: node, reason: reason)
            } else {
                nodeLost(&draft, node: node, reason: reason)
            }
        case .allocationGone(let attempt, let reason, let rank):
            if draft.isGang(attempt) {
                gangGone(&draft, attempt: attempt, rank: rank, reason: reason)
            } else if rank == 0 {
                allocationGone(&draft, attempt: attempt, reason: reason)
            }
        case .preempt(let by): preempt(&draft, by: by)
        case .hold(let requester): hold(&draft, by: requester)
        case .release(let requester): release(&draft, by: requester)
        case .requeue(let requester, let hold): requeue(&draft, by: requester, hold: hold)
        case .update(let update, let requester, let maxPriority):
            self.update(&draft, update, by: requester, maxPriority: maxPriority)
        case .reconnected(let attempt, let rank): if rank == 0 { reconnected(&draft, attempt: attempt) }
        case .timeLimitReached: timeLimitReached(&draft)
        case .dependencyFailed(let dependency, let state): dependencyFailed(&draft, dependency, state)
        case .idleGPUs(let mean, let window, let cancelAt):
            guard draft.job.state == .running else { break }
            let seconds = window.milliseconds / 1000
            let span = seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds) s"
            var note = "GPUs idle: \((mean * 10).rounded() / 10)% on average over the last \(span)"
            if let cancelAt {
                let seconds = max(((cancelAt - draft.now).milliseconds + 500) / 1000, 0)
                note += "; it will be canceled in \(seconds) s unless they get busy (its queue's idle_cancel_after)"
            }
            draft.note(note)
        }
        return draft.outcome
    }

    /// The first record of every job, through the same code as every later one.
    static func submitted(_ draft: inout LifecycleDraft) {
        guard draft.job.state == .queued, draft.job.attempts.isEmpty, draft.outcome.records.isEmpty else { return }
        let reason = "submitted by \(draft.job.user)" + (draft.job.hold == nil ? "" : ", held")
        draft.job.message = reason
        draft.job.pendingReason = draft.job.hold == nil ? .resources : .held
        draft.outcome.records.append(
            JobEventRecord(
                job: draft.job.id,
                attempt: 0,
                from: nil,
                to: .queued,
                reason: reason,
                node: nil,
                at: draft.now
            )
        )
        draft.outcome.transitioned = true
        draft.outcome.storage = .durable
        draft.effect(.requestPass)
    }

    static func placed(_ draft: inout LifecycleDraft, node: NodeID, gpus: [Int]) {
        guard draft.job.state == .queued else { return }
        let attempt = Attempt(
            number: draft.job.attempts.count + 1,
            node: node,
            gpuIndices: gpus,
            resources: draft.job.spec.resources,
            allocatedAt: draft.now
        )
        draft.job.attempts.append(attempt)
        draft.job.stopRequest = nil
        draft.job.notBefore = nil
        draft.outcome.touchedAttempts.insert(attempt.number)
        draft.move(.allocate(node: node, gpus: gpus), node: node)
        draft.effect(.hold(Allocation(of: draft.job.id, attempt)))
        draft.effect(.wake(node))
    }

    static func cancel(_ draft: inout LifecycleDraft, by user: String) {
        let now = draft.now
        let job = draft.job
        switch job.state {
        case .canceled:
            return  // canceling twice is one cancel
        case .succeeded, .failed:
            draft.reject(.alreadyFinished(job.state))
        case .lost:
            // LOST with its allocation still held waits for its lease to run out before a retry: the cancel
            // replaces the retry. LOST with nothing held is over.
            guard let allocation = draft.liveAllocation else { return draft.reject(.alreadyFinished(.lost)) }
            guard job.stopRequest?.isCancel != true else { return }
            draft.job.stopRequest = StopRequest(.cancel(by: user), at: draft.now)
            draft.note("cancel requested by \(user): it ends once its node's lease has run out")
            draft.effect(.stop(allocation))
        case .queued:
            draft.move(.cancel(by: user))
            draft.effect(.requestPass)
        case .allocated where draft.context.allocation?.delivered != true:
            // The agent never had the launch: nothing runs, the resources are free at once.
            if let allocation = draft.liveAllocation { draft.effect(.release(allocation)) }
            draft.editLive {
                $0.endedAt = now
                $0.finalState = .canceled
            }
            draft.move(.cancel(by: user))
            draft.effect(.requestPass)
        case .allocated, .starting, .running:
            guard job.stopRequest?.isCancel != true, let allocation = draft.liveAllocation,
                let node = job.liveAttempt?.node
            else { return }
            draft.job.stopRequest = StopRequest(.cancel(by: user), at: draft.now)
            draft.note("cancel requested by \(user): stopping its processes")
            draft.effect(.stop(allocation))
            draft.effect(.wake(node))
        }
    }

    /// The controller's backstop to the node's own enforcement: ask the agent to stop the job; it ends
    /// FAILED (TIMEOUT) when its processes are gone.
    static func timeLimitReached(_ draft: inout LifecycleDraft) {
        let job = draft.job
        guard job.state == .running, job.stopRequest == nil, let limit = job.spec.timeLimit,
            let attempt = job.liveAttempt, let started = attempt.startedAt, started + .seconds(limit) < draft.now
        else { return }
        draft.job.stopRequest = StopRequest(.timeLimit, at: draft.now)
        draft.note("time limit reached (TIMEOUT): stopping its processes")
        if attempt.isGang { return stopLiveRanks(&draft) }
        draft.effect(.stop(AllocationID(job: job.id, attempt: attempt.number)))
        draft.effect(.wake(attempt.node))
    }

    static func dependencyFailed(_ draft: inout LifecycleDraft, _ dependency: JobID, _ state: JobState) {
        guard draft.job.state == .queued else { return }
        draft.move(.dependencyFailed(dependency, state))
        draft.effect(.requestPass)
    }

    /// Live usage from a heartbeat: kept in memory, written with the final account when the attempt ends.
    static func sampled(_ draft: inout LifecycleDraft, attempt: Int, _ usage: ResourceUsage) {
        guard let live = draft.job.liveAttempt, live.number == attempt,
            draft.job.state == .starting || draft.job.state == .running
        else { return }
        draft.editLive { $0.usage = usage }
        draft.outcome.storage = .memoryOnly
    }
}
