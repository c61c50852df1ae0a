import ClusterCore
import Testing

/// Job control's rules (issue 17), on the lifecycle alone: hold and release, requeue, update, and who may do
/// what. The end-to-end tests (`EndToEndTests/JobControlTests`) drive the same through the real binaries.
@Suite struct JobControlTests {
    typealias H = LifecycleHarness
    static let alice = Requester("alice", isAdmin: false)
    static let root = Requester("root", isAdmin: true)

    // MARK: Hold and release

    @Test func aHeldJobWaitsWithReasonHeldAndIsPassedOverByTheScheduler() {
        var harness = H.queued()
        let outcome = harness.apply(.hold(by: Self.alice))
        #expect(outcome.rejection == nil && outcome.storage == .durable)
        #expect(harness.job.state == .queued && harness.job.pendingReason == .held)
        #expect(harness.job.hold == JobHold(by: "alice", byAdmin: false, at: harness.now))
        #expect(harness.records.last?.reason == "held by alice" && harness.records.last?.to == .queued)
        let node = Fixtures.node("gpu-1")
        let held = Scheduler.plan(
            ClusterSnapshot(pending: [harness.job], nodes: [node], now: harness.now),
            policy: .standard
        )
        #expect(held.assignments.isEmpty && held.pending[harness.job.id] == .held)
        harness.apply(.release(by: Self.alice))
        #expect(harness.job.hold == nil && harness.job.pendingReason == .resources)
        let released = Scheduler.plan(
            ClusterSnapshot(pending: [harness.job], nodes: [node], now: harness.now),
            policy: .standard
        )
        #expect(released.assignments.map(\.job) == [harness.job.id])
    }

    @Test func holdingTwiceIsOneHoldAndAnAdminsHoldOverridesAUsers() {
        var harness = H.queued()
        harness.apply(.hold(by: Self.alice))
        let again = harness.apply(.hold(by: Self.alice))
        #expect(again.storage == .none && again.rejection == nil)
        harness.apply(.hold(by: Self.root))
        #expect(harness.job.hold?.byAdmin == true && harness.job.hold?.by == "root")
        // The owner cannot lift an admin's hold, nor weaken it by holding again.
        let userRelease = harness.apply(.release(by: Self.alice))
        #expect(
            userRelease.rejection == .notAllowed("job job1 was held by an admin (root): only an admin can release it")
        )
        #expect(harness.apply(.hold(by: Self.alice)).storage == .none && harness.job.hold?.byAdmin == true)
        harness.apply(.release(by: Self.root))
        #expect(harness.job.hold == nil)
    }

    @Test(arguments: [JobState.running, .allocated, .succeeded])
    func onlyAQueuedJobCanBeHeld(_ state: JobState) {
        var harness = state == .allocated ? H.allocated() : H.running()
        if state == .succeeded { harness.apply(H.exited(0)) }
        let before = harness.job
        let outcome = harness.apply(.hold(by: Self.alice))
        #expect(outcome.rejection == (state == .succeeded ? .alreadyFinished(state) : .notQueued(state)))
        #expect(outcome.storage == .none && harness.job == before)
    }

    @Test func releasingAJobThatIsNotHeldIsRefused() {
        var harness = H.queued()
        #expect(harness.apply(.release(by: Self.root)).rejection == .notHeld)
    }

    // MARK: Requeue

    @Test func aRequeuedRunningJobStopsThenGoesBackToTheQueueItsRetriesUntouched() {
        var harness = H.running(.retrying(1))
        let asked = harness.apply(.requeue(by: Self.alice, hold: false))
        #expect(asked.effects.contains(.stop(AllocationID(job: JobID("job1"), attempt: 1))))
        #expect(
            harness.job.state == .running && harness.records.last?.reason == "requeued by alice: stopping its processes"
        )
        // Asking again while it stops changes nothing.
        #expect(harness.apply(.requeue(by: Self.alice, hold: false)).storage == .none)
        harness.apply(.ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(signal: 15))))
        #expect(harness.job.state == .queued && harness.job.pendingReason == .resources)
        #expect(harness.job.retriesUsed == 0 && harness.job.infraRetriesUsed == 0 && harness.job.preemptions == 0)
        #expect(harness.job.attempts[0].finalState == .queued && harness.job.stopRequest == nil)
        #expect(harness.records.last?.reason == "requeued by alice: back in the queue")
        #expect(harness.allocations.isEmpty)
        // It runs again as a new attempt.
        harness.apply(.placed(node: H.node, gpus: [0, 1]))
        #expect(harness.job.attempts.map(\.number) == [1, 2])
    }

    @Test func requeueWithHoldKeepsItHeldOnceBack() {
        var harness = H.running()
        harness.apply(.requeue(by: Self.root, hold: true))
        harness.apply(.allocationGone(attempt: 1, reason: "no longer listed"))
        #expect(harness.job.state == .queued && harness.job.pendingReason == .held)
        #expect(harness.job.hold?.by == "root" && harness.job.hold?.byAdmin == true)
    }

    @Test func aLaunchNeverHandedOutIsRequeuedAtOnce() {
        var harness = H.allocated(delivered: false)
        harness.apply(.requeue(by: Self.alice, hold: false))
        #expect(harness.job.state == .queued && harness.allocations.isEmpty)
    }

    @Test func aRequeuedJobThatExitsZeroBeforeTheStopIsDone() {
        var harness = H.running()
        harness.apply(.requeue(by: Self.alice, hold: false))
        harness.apply(H.exited(0))
        #expect(harness.job.state == .succeeded)
    }

    @Test func onlyAPlacedJobCanBeRequeued() {
        var queued = H.queued()
        #expect(queued.apply(.requeue(by: Self.alice, hold: false)).rejection == .notPlaced(.queued))
        var canceling = H.running()
        canceling.apply(.cancel(by: "alice"))
        let outcome = canceling.apply(.requeue(by: Self.alice, hold: false))
        #expect(outcome.storage == .none && canceling.job.stopRequest?.isCancel == true)
    }

    // MARK: Update

    struct UpdateCase: Sendable, CustomTestStringConvertible {
        let name: String
        let state: JobState
        let requester: Requester
        let update: JobUpdate
        /// nil: accepted.
        let refusal: LifecycleRejection?
        var testDescription: String { name }
    }

    static let updates: [UpdateCase] = [
        .init(
            name: "user lowers the time limit",
            state: .queued,
            requester: alice,
            update: .init(timeLimit: 600),
            refusal: nil
        ),
        .init(
            name: "user raises the time limit",
            state: .queued,
            requester: alice,
            update: .init(timeLimit: 7200),
            refusal: .notAllowed("only an admin can raise a job's time limit (it is 3600 s)")
        ),
        .init(
            name: "admin raises a queued job's limit",
            state: .queued,
            requester: root,
            update: .init(timeLimit: 7200),
            refusal: nil
        ),
        .init(
            name: "admin raises a running job's limit",
            state: .running,
            requester: root,
            update: .init(timeLimit: 7200),
            refusal: .notAllowed(
                "job job1 is RUNNING: its node enforces the time limit it started with (3600 s); "
                    + "a placed job's limit can only be lowered"
            )
        ),
        .init(
            name: "user lowers a running job's limit",
            state: .running,
            requester: alice,
            update: .init(timeLimit: 60),
            refusal: nil
        ),
        .init(
            name: "user lowers the priority",
            state: .queued,
            requester: alice,
            update: .init(priority: -5),
            refusal: nil
        ),
        .init(
            name: "user raises the priority to the queue's maximum",
            state: .queued,
            requester: alice,
            update: .init(priority: 3),
            refusal: nil
        ),
        .init(
            name: "user raises the priority over the queue's maximum",
            state: .queued,
            requester: alice,
            update: .init(priority: 10_000),
            refusal: .notAllowed("priority 10000 is above queue default's maximum for users (3)")
        ),
        .init(
            name: "admin sets any priority",
            state: .queued,
            requester: root,
            update: .init(priority: 10_000),
            refusal: nil
        ),
        .init(
            name: "priority out of range",
            state: .queued,
            requester: root,
            update: .init(priority: 10_001),
            refusal: .invalid(field: "priority", "must be between -10000 and 10000")
        ),
        .init(
            name: "time limit zero",
            state: .queued,
            requester: root,
            update: .init(timeLimit: 0),
            refusal: .invalid(field: "time_limit", "must be between 1 and 31622400 seconds")
        ),
        .init(
            name: "a finished job",
            state: .succeeded,
            requester: root,
            update: .init(priority: 1),
            refusal: .alreadyFinished(.succeeded)
        ),
    ]

    @Test(arguments: updates)
    func update(_ row: UpdateCase) {
        let spec = JobSpec.retrying(0, timeLimit: 3600)
        var harness: LifecycleHarness
        switch row.state {
        case .running: harness = H.running(spec)
        case .succeeded:
            harness = H.running(spec)
            harness.apply(H.exited(0))
        default: harness = H.queued(spec)
        }
        let before = harness.job
        let outcome = harness.apply(.update(row.update, by: row.requester, maxPriority: 3))
        #expect(outcome.rejection == row.refusal)
        if row.refusal != nil {
            #expect(harness.job == before && outcome.storage == .none)
            return
        }
        #expect(outcome.specChanged && outcome.storage == .durable)
        if let limit = row.update.timeLimit { #expect(harness.job.spec.timeLimit == limit) }
        if let priority = row.update.priority { #expect(harness.job.spec.priority == priority) }
        #expect(harness.records.last?.reason.hasPrefix("updated by \(row.requester.name): ") == true)
    }

    @Test func anUpdateThatChangesNothingStoresNothing() {
        var harness = H.queued(.retrying(0, timeLimit: 3600))
        let outcome = harness.apply(.update(JobUpdate(timeLimit: 3600, priority: 0), by: Self.alice, maxPriority: 0))
        #expect(outcome.storage == .none && outcome.rejection == nil && !outcome.specChanged)
    }

    @Test func aLoweredLimitOnARunningJobIsEnforcedByTheBackstop() {
        var harness = H.running(.retrying(0, timeLimit: 3600))
        harness.advance(.seconds(120))
        harness.apply(.update(JobUpdate(timeLimit: 60), by: Self.alice, maxPriority: 0))
        harness.apply(.timeLimitReached)
        #expect(harness.job.stopRequest?.reason == .timeLimit)
    }
}

/// What the review of issue 17 found, pinned down.
@Suite struct JobControlEdgeTests {
    typealias H = LifecycleHarness

    @Test func requeueHoldWhileAPreemptionStopsTheJobHoldsItOnceBack() {
        var harness = H.running()
        harness.apply(.preempt(by: JobID("urgent")))
        let outcome = harness.apply(.requeue(by: Requester("root", isAdmin: true), hold: true))
        #expect(outcome.rejection == nil && harness.job.hold?.byAdmin == true)
        harness.apply(.ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(signal: 15))))
        #expect(harness.job.state == .queued && harness.job.pendingReason == .held && harness.job.preemptions == 1)
    }

    @Test func requeueOfAJobBeingCanceledIsRefused() {
        var harness = H.running()
        harness.apply(.cancel(by: "alice"))
        let outcome = harness.apply(.requeue(by: Requester("alice", isAdmin: false), hold: false))
        #expect(outcome.rejection == .alreadyStopping("canceled by alice"))
    }

    @Test func aHeldJobWhoseDependencyFailedFailsNow() {
        var job = H.queued(JobSpec(command: ["x"], dependsOn: [JobID("dep0000001")])).job
        job.hold = JobHold(by: "alice", byAdmin: false, at: .zero)
        let snapshot = ClusterSnapshot(
            pending: [job],
            nodes: [Fixtures.node("n")],
            jobStates: [JobID("dep0000001"): .failed],
            now: .zero
        )
        let schedule = Scheduler.plan(snapshot, policy: .standard)
        #expect(schedule.failedDependencies[job.id] == JobID("dep0000001"))
        // A dependency still running: the reason shown is the hold.
        let waiting = ClusterSnapshot(
            pending: [job],
            nodes: [Fixtures.node("n")],
            jobStates: [JobID("dep0000001"): .running],
            now: .zero
        )
        #expect(Scheduler.plan(waiting, policy: .standard).pending[job.id] == .held)
    }
}
