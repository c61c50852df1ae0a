/// A lifecycle decision in progress: the job as it becomes, the records and effects so far. Every change to a
/// job's state or attempts goes through here, so each one is recorded and the store knows what to write.
struct LifecycleDraft {
    var outcome: LifecycleOutcome
    let context: LifecycleContext

    init(_ job: Job, _ context: LifecycleContext) {
        outcome = LifecycleOutcome(job: job)
        self.context = context
    }

    var job: Job {
        get { outcome.job }
        set { outcome.job = newValue }
    }
    var now: Timestamp { context.now }
    var policy: LifecyclePolicy { context.policy }

    /// The live attempt's allocation id, when the job has one.
    var liveAllocation: AllocationID? { job.liveAttempt.map { AllocationID(job: job.id, attempt: $0.number) } }

    /// Takes a state-machine edge and records it. The rules only ask for edges the machine has; a refusal
    /// here would be a bug in them, and changes nothing.
    @discardableResult
    mutating func move(_ event: JobEvent, node: NodeID? = nil) -> Bool {
        var machine = JobStateMachine(state: job.state)
        guard let transition = try? machine.handle(event) else { return false }
        job.state = transition.to
        job.updatedAt = now
        job.message = transition.reason
        job.pendingReason = transition.to == .queued ? (job.hold == nil ? .resources : .held) : nil
        append(from: transition.from, to: transition.to, reason: transition.reason, node: node, applied: true)
        outcome.transitioned = true
        return true
    }

    /// Records something that happened without a change of state (a stop was asked for).
    mutating func note(_ reason: String) {
        job.updatedAt = now
        job.message = reason
        append(from: job.state, to: job.state, reason: reason, node: nil, applied: true)
    }

    /// Records a report that arrived too late to change anything (`applied: false`).
    mutating func refuse(_ reason: String, attempt: Int, node: NodeID?) {
        outcome.records.append(
            JobEventRecord(
                job: job.id,
                attempt: attempt,
                from: job.state,
                to: nil,
                reason: "refused: \(reason)",
                node: node,
                at: now,
                applied: false
            )
        )
        outcome.storage = .durable
    }

    /// Changes one attempt; the store writes it with the job.
    mutating func edit(attempt number: Int, _ change: (inout Attempt) -> Void) {
        guard let index = job.attempts.firstIndex(where: { $0.number == number }) else { return }
        change(&job.attempts[index])
        outcome.touchedAttempts.insert(number)
        if outcome.storage == .none { outcome.storage = .durable }
    }

    /// Whether attempt `number` is a gang's.
    func isGang(_ number: Int) -> Bool { job.attempts.first { $0.number == number }?.isGang == true }

    /// Changes one rank of one attempt.
    mutating func edit(attempt number: Int, rank: Int, _ change: (inout RankRun) -> Void) {
        edit(attempt: number) { attempt in
            guard let index = attempt.ranks.firstIndex(where: { $0.rank == rank }) else { return }
            change(&attempt.ranks[index])
        }
    }

    /// Changes the live attempt, if there is one.
    mutating func editLive(_ change: (inout Attempt) -> Void) {
        guard let live = job.liveAttempt else { return }
        edit(attempt: live.number, change)
    }

    mutating func effect(_ effect: LifecycleEffect) {
        if !outcome.effects.contains(effect) { outcome.effects.append(effect) }
    }

    /// A field of the job changed without a record (a message, a counter): it must still be written.
    mutating func markChanged() {
        if outcome.storage == .none { outcome.storage = .durable }
    }

    mutating func reject(_ rejection: LifecycleRejection) { outcome.rejection = rejection }

    private mutating func append(from: JobState?, to: JobState?, reason: String, node: NodeID?, applied: Bool) {
        outcome.records.append(
            JobEventRecord(
                job: job.id,
                attempt: job.currentAttempt?.number ?? 0,
                from: from,
                to: to,
                reason: reason,
                node: node ?? job.currentAttempt?.node,
                at: now,
                applied: applied
            )
        )
        outcome.storage = .durable
    }
}
