/// Gang jobs: one attempt, one allocation per rank, each rank on its own node. The ranks live and die
/// together:
/// - the job is STARTING once every rank's agent took its launch, RUNNING once every rank's process runs;
/// - when a rank ends other than by exit 0 (a failure, a launch failure, fencing, its node lost), the others
///   are asked to stop, and the rank is kept as the attempt's `failedRank`;
/// - the job decides only when every rank's processes are gone, as a one-node job would on the failed rank's
///   end (retried from the job's own budget or the node-fault one), CANCELED or TIMEOUT when a stop was asked
///   for, SUCCEEDED when every rank exited 0.
/// No rank's resources are freed while its processes may run, so fencing holds per rank.
extension JobLifecycle {
    static func placedGang(_ draft: inout LifecycleDraft, _ placements: [Placement], port: Int) {
        guard draft.job.state == .queued, !placements.isEmpty else { return }
        let attempt = Attempt(
            number: draft.job.attempts.count + 1,
            ranks: placements,
            resources: draft.job.spec.resources,
            allocatedAt: draft.now,
            port: port
        )
        draft.job.attempts.append(attempt)
        draft.job.stopRequest = nil
        draft.job.notBefore = nil
        draft.outcome.touchedAttempts.insert(attempt.number)
        draft.move(.allocateGang(placements), node: attempt.node)
        for run in attempt.ranks {
            draft.effect(.hold(Allocation(of: draft.job.id, attempt, rank: run.rank)))
            draft.effect(.wake(run.node))
        }
    }

    static func gangAccepted(_ draft: inout LifecycleDraft, attempt number: Int, rank: Int) {
        guard let live = draft.job.liveAttempt, live.number == number,
            let run = live.ranks.first(where: { $0.rank == rank }), run.isLive
        else { return }
        if !run.accepted { draft.edit(attempt: number, rank: rank) { $0.accepted = true } }
        advance(&draft)
        if draft.job.state.isPlaced {
            draft.effect(.renewLease(AllocationID(job: draft.job.id, attempt: number, rank: rank)))
        }
    }

    static func gangStarted(_ draft: inout LifecycleDraft, attempt number: Int, rank: Int, pid: Int32) {
        let now = draft.now
        guard let live = draft.job.liveAttempt, live.number == number,
            let run = live.ranks.first(where: { $0.rank == rank }), run.isLive
        else { return }
        if run.startedAt == nil {
            draft.edit(attempt: number, rank: rank) {
                $0.accepted = true
                $0.startedAt = now
                $0.pid = pid
            }
        }
        advance(&draft)
        if draft.job.state.isPlaced {
            draft.effect(.renewLease(AllocationID(job: draft.job.id, attempt: number, rank: rank)))
        }
    }

    /// ALLOCATED -> STARTING when every rank was taken, STARTING -> RUNNING when every rank runs; never while
    /// the gang is being stopped.
    private static func advance(_ draft: inout LifecycleDraft) {
        let now = draft.now
        guard let live = draft.job.liveAttempt, live.failedRank == nil, draft.job.stopRequest == nil else { return }
        if draft.job.state == .allocated, live.ranks.allSatisfy(\.accepted) { draft.move(.accepted) }
        if draft.job.state == .starting, live.ranks.allSatisfy({ $0.startedAt != nil }) {
            let pid = live.ranks[0].pid ?? 0
            draft.editLive {
                $0.startedAt = now
                $0.pid = pid
            }
            draft.move(.started(pid: pid))
        }
    }

    static func gangSampled(_ draft: inout LifecycleDraft, attempt number: Int, rank: Int, _ usage: ResourceUsage) {
        guard let live = draft.job.liveAttempt, live.number == number,
            draft.job.state == .starting || draft.job.state == .running
        else { return }
        draft.edit(attempt: number, rank: rank) { $0.usage = usage }
        draft.editLive { $0.usage = Self.total($0.ranks.compactMap(\.usage)) }
        draft.outcome.storage = .memoryOnly
    }

    /// A rank's processes are gone, as its agent reports.
    static func gangEnded(_ draft: inout LifecycleDraft, attempt number: Int, rank: Int, _ end: AttemptEnd) {
        let now = draft.now
        guard let attempt = draft.job.attempts.first(where: { $0.number == number }),
            let run = attempt.ranks.first(where: { $0.rank == rank })
        else { return }
        let what = end.kind == .launchFailed ? "launch failed" : JobStateMachine.describe(end.exit)
        guard run.isLive else {
            guard run.exit == nil else { return }  // a repeat
            draft.edit(attempt: number, rank: rank) {
                $0.exit = end.exit
                $0.endKind = end.kind
                if let final = end.usage { $0.usage = final }
            }
            draft.refuse(
                "late report '\(what)' for rank \(rank), which had already ended",
                attempt: number,
                node: run.node
            )
            return
        }
        var exit = end.exit
        if end.kind == .exited, draft.job.stopRequest?.reason == .timeLimit { exit.timedOut = true }
        draft.edit(attempt: number, rank: rank) {
            $0.exit = exit
            $0.endKind = end.kind
            $0.endedAt = now
            if let final = end.usage { $0.usage = $0.usage.map { $0.ended(with: final) } ?? final }
        }
        draft.effect(.release(AllocationID(job: draft.job.id, attempt: number, rank: rank)))
        draft.effect(.requestPass)
        let state = draft.job.state
        guard draft.job.liveAttempt?.number == number, state.isPlaced || state == .lost else {
            draft.refuse("late report '\(what)' for rank \(rank) of a \(state) job", attempt: number, node: run.node)
            return
        }
        rankFinished(&draft, rank: rank)
    }

    /// A rank's processes are surely gone without a report (its lease ran out on a lost node, its node
    /// rebooted, its agent no longer runs it).
    static func gangGone(_ draft: inout LifecycleDraft, attempt number: Int, rank: Int, reason: String) {
        let now = draft.now
        let allocation = AllocationID(job: draft.job.id, attempt: number, rank: rank)
        guard let live = draft.job.liveAttempt, live.number == number,
            let run = live.ranks.first(where: { $0.rank == rank }), run.isLive
        else {
            draft.effect(.release(allocation))
            draft.effect(.requestPass)
            return
        }
        // Never taken: handed out again, or its launch lease runs out.
        if draft.job.state == .allocated && !run.accepted { return }
        draft.edit(attempt: number, rank: rank) {
            $0.endedAt = now
            $0.exit = JobExit(message: reason)
        }
        draft.effect(.release(allocation))
        draft.effect(.requestPass)
        rankFinished(&draft, rank: rank)
    }

    /// ALLOCATED, and one rank's agent did not take its launch in time (or its node was lost before): that
    /// rank is over, which dooms the attempt; ranks that were taken are stopped first.
    static func gangLaunchNotTaken(_ draft: inout LifecycleDraft, rank: Int, reason: String) {
        let now = draft.now
        // A rank its agent took is not a launch lost: its lease settles it (`gangGone`).
        guard draft.job.state == .allocated, let live = draft.job.liveAttempt,
            let run = live.ranks.first(where: { $0.rank == rank }), run.isLive, !run.accepted
        else { return }
        draft.edit(attempt: live.number, rank: rank) {
            $0.endedAt = now
            $0.exit = JobExit(message: reason)
        }
        draft.effect(.release(AllocationID(job: draft.job.id, attempt: live.number, rank: rank)))
        draft.effect(.requestPass)
        rankFinished(&draft, rank: rank)
    }

    static func gangNodeLost(_ draft: inout LifecycleDraft, node: NodeID, reason: String) {
        guard let live = draft.job.liveAttempt else { return }
        let onNode = live.ranks.filter { $0.node == node && $0.isLive }
        guard let first = onNode.first else { return }
        switch draft.job.state {
        case .allocated:
            // A launch its agent never had is over at once; one handed out waits for its launch lease. A rank
            // its agent took may run there: it dooms the gang (the others are stopped), and is over once its
            // lease has run out (node liveness).
            for run in onNode where draft.context.allocations[run.rank]?.delivered != true && !run.accepted {
                gangLaunchNotTaken(
                    &draft,
                    rank: run.rank,
                    reason: "node \(node) was lost before it accepted the launch"
                )
            }
            if let taken = onNode.first(where: \.accepted), draft.job.state == .allocated,
                draft.job.liveAttempt?.finalState == nil
            {
                // A node fault, whatever else happens to the other ranks meanwhile (`conclude` gives the launch
                // back from the node-fault budget). The rank there is asked to stop too: its node may come back.
                draft.edit(attempt: live.number) {
                    $0.finalState = .lost
                    if $0.failedRank == nil { $0.failedRank = taken.rank }
                }
                draft.note("rank \(taken.rank) on \(node): \(reason): stopping the other ranks")
                stopLiveRanks(&draft)
            }
        case .starting, .running:
            // A rank still running on a lost node makes it a node fault even when another rank failed first (its
            // peers' collectives fail within seconds of a node's crash, long before the node timeout).
            if draft.job.liveAttempt?.failedRank == nil {
                draft.edit(attempt: live.number) { $0.failedRank = first.rank }
            }
            draft.editLive { $0.finalState = .lost }
            draft.move(.nodeLost(reason: "rank \(first.rank): \(reason)"))
            stopLiveRanks(&draft, except: node)
        default:
            return
        }
    }

    static func gangCancel(_ draft: inout LifecycleDraft, by user: String) {
        let job = draft.job
        switch job.state {
        case .canceled:
            return
        case .succeeded, .failed:
            draft.reject(.alreadyFinished(job.state))
        case .lost where job.liveAllocationIDs.isEmpty:
            draft.reject(.alreadyFinished(.lost))
        case .queued:
            draft.move(.cancel(by: user))
            draft.effect(.requestPass)
        case .lost, .allocated, .starting, .running:
            guard job.stopRequest?.isCancel != true else { return }
            draft.job.stopRequest = StopRequest(.cancel(by: user), at: draft.now)
            draft.note("cancel requested by \(user): stopping its ranks")
            stopLiveRanks(&draft)
        }
    }

    /// Asks every live rank to stop (but those on `except`, a lost node whose lease settles them). A rank
    /// whose launch its agent never had is over at once.
    static func stopLiveRanks(_ draft: inout LifecycleDraft, except lostNode: NodeID? = nil) {
        let now = draft.now
        guard let live = draft.job.liveAttempt else { return }
        for run in live.ranks where run.isLive && run.node != lostNode {
            let id = AllocationID(job: draft.job.id, attempt: live.number, rank: run.rank)
            if !run.accepted, draft.context.allocations[run.rank]?.delivered == false {
                draft.edit(attempt: live.number, rank: run.rank) {
                    $0.endedAt = now
                    $0.exit = JobExit(message: "stopped before its agent took the launch")
                }
                draft.effect(.release(id))
                draft.effect(.requestPass)
            } else {
                draft.effect(.stop(id))
                draft.effect(.wake(run.node))
            }
        }
        if draft.job.liveAttempt?.ranks.allSatisfy({ !$0.isLive }) == true { conclude(&draft) }
    }

    /// One rank is over: a failure dooms the gang (the others are stopped); the last one decides the job.
    private static func rankFinished(_ draft: inout LifecycleDraft, rank: Int) {
        guard let live = draft.job.liveAttempt, let run = live.ranks.first(where: { $0.rank == rank }) else { return }
        if run.failed, live.failedRank == nil, draft.job.stopRequest == nil, draft.job.state != .lost {
            draft.edit(attempt: live.number) { $0.failedRank = rank }
            draft.note("rank \(rank) on \(run.node) \(Self.describe(run)): stopping the other ranks")
            stopLiveRanks(&draft)
            return
        }
        if draft.job.liveAttempt?.ranks.allSatisfy({ !$0.isLive }) == true { conclude(&draft) }
    }

    /// Every rank's processes are gone: the job decides as a one-node job would on the failed rank's end.
    private static func conclude(_ draft: inout LifecycleDraft) {
        let now = draft.now
        guard let live = draft.job.liveAttempt else { return }
        let number = live.number
        let cause = live.failedRank.flatMap { rank in live.ranks.first { $0.rank == rank } }
        var exit = cause.flatMap(\.exit) ?? JobExit(code: 0)
        if let cause {
            let detail = exit.message.map { ": \($0)" } ?? ""
            exit.message = "rank \(cause.rank) on \(cause.node)\(detail)"
        }
        if draft.job.stopRequest?.reason == .timeLimit { exit.timedOut = true }
        let usages = live.ranks.compactMap(\.usage)
        draft.edit(attempt: number) {
            $0.exit = exit
            if !usages.isEmpty { $0.usage = total(usages) }
        }
        defer { draft.edit(attempt: number) { $0.endedAt = $0.endedAt ?? now } }
        let state = draft.job.state
        if state == .lost { return finishLost(&draft, reason: "all its ranks are gone") }
        if state == .allocated, live.finalState == .lost, draft.job.stopRequest == nil {
            // A rank's node was lost before the gang got going: the node's fault, whatever the ranks reported.
            return launchGivenBack(&draft, number, reason: exit.message ?? "a rank's node was lost")
        }
        let allExitedZero = live.ranks.allSatisfy { $0.endKind == .exited && $0.exit?.isSuccess == true }
        if returnsToQueue(draft.job), !allExitedZero {
            return requeueStopped(&draft, attempt: number)
        }
        if case .cancel(let user)? = draft.job.stopRequest?.reason {
            draft.edit(attempt: number) { $0.finalState = .canceled }
            draft.move(.cancel(by: user))
            return
        }
        guard let cause, !exit.timedOut else { return exited(&draft, number, exit) }
        switch cause.endKind {
        case .fenced?, .nodeFault?, nil:
            if state == .allocated {
                return launchGivenBack(&draft, number, reason: exit.message ?? "a rank's launch was lost")
            }
            draft.edit(attempt: number) { $0.finalState = .lost }
            draft.move(.nodeLost(reason: exit.message ?? "a rank's node was lost"))
            finishLost(&draft, reason: "all its ranks are gone")
        case .launchFailed?:
            if draft.job.state == .allocated { draft.move(.accepted) }
            guard draft.job.state == .starting else { return exited(&draft, number, exit) }
            draft.edit(attempt: number) { $0.finalState = .failed }
            draft.move(.launchFailed(message: exit.message ?? "unknown error"))
            retryIfAllowed(&draft)
        case .exited?:
            exited(&draft, number, exit)
        }
    }

    private static func exited(_ draft: inout LifecycleDraft, _ number: Int, _ exit: JobExit) {
        if draft.job.state == .allocated { draft.move(.accepted) }
        if draft.job.state == .starting {
            draft.move(.started(pid: draft.job.attempts.first { $0.number == number }?.pid ?? 0))
        }
        draft.edit(attempt: number) { $0.finalState = exit.isSuccess ? .succeeded : .failed }
        draft.move(.exited(exit))
        retryIfAllowed(&draft)
    }

    /// A gang whose launch never got going on every node: back to the queue from the node-fault budget.
    private static func launchGivenBack(_ draft: inout LifecycleDraft, _ number: Int, reason: String) {
        let budget = draft.policy.infrastructureRetries
        if draft.job.infraRetriesUsed < budget {
            draft.job.infraRetriesUsed += 1
            draft.move(
                .launchAbandoned(reason: "\(reason): retry \(draft.job.infraRetriesUsed) of \(budget) (node faults)")
            )
        } else {
            draft.edit(attempt: number) { $0.finalState = .failed }
            draft.move(.launchGaveUp(reason: "\(reason), and the infrastructure retry budget (\(budget)) is spent"))
        }
    }

    static func describe(_ run: RankRun) -> String {
        switch run.endKind {
        case .launchFailed?: "failed to launch: \(run.exit?.message ?? "unknown error")"
        case .fenced?: "was fenced: \(run.exit?.message ?? "its agent could not renew the lease")"
        case .nodeFault?: "could not be launched by its node: \(run.exit?.message ?? "a fault of the node")"
        case .exited?: "ended (\(JobStateMachine.describe(run.exit ?? JobExit())))"
        case nil: "is gone: \(run.exit?.message ?? "no report")"
        }
    }

    static func total(_ usages: [ResourceUsage]) -> ResourceUsage {
        var sum = ResourceUsage(cpuSeconds: 0, memoryBytes: 0, peakMemoryBytes: 0)
        for usage in usages {
            sum.cpuSeconds += usage.cpuSeconds
            sum.memoryBytes += usage.memoryBytes
            sum.peakMemoryBytes += usage.peakMemoryBytes
            if let gpu = usage.gpuMemoryMiB { sum.gpuMemoryMiB = (sum.gpuMemoryMiB ?? 0) + gpu }
        }
        return sum
    }
}
