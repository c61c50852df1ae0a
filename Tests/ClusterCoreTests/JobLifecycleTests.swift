import ClusterCore
import Testing

/// The job lifecycle as a table: a job brought to a state the way the cluster brings it there, one event, and
/// what must follow (state, the records' edges, whether its resources stay held, and the details that matter).
/// No SQLite, no sockets: `LifecycleHarness` carries the effects out as the controller does.
@Suite struct JobLifecycleTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let start: @Sendable () -> LifecycleHarness
        let event: LifecycleEvent
        let state: JobState
        /// The applied records of the event, as "FROM>TO" ("RUNNING>RUNNING" for a note).
        let edges: [String]
        /// Whether the job still holds an allocation afterwards.
        let held: Bool
        var check: @Sendable (LifecycleHarness, LifecycleOutcome) -> Void = { _, _ in }
        var testDescription: String { name }
    }

    typealias H = LifecycleHarness
    static let fenced = AttemptEnd(.fenced, exit: JobExit(signal: 15, message: "lease ran out"))
    static let gone = LifecycleEvent.allocationGone(attempt: 1, reason: "its allocation lease on gpu-1 expired")

    static let cases: [Case] = [
        Case(
            name: "submitted: the first QUEUED record",
            start: { H() },
            event: .submitted,
            state: .queued,
            edges: ["nil>QUEUED"],
            held: false,
            check: { harness, outcome in
                #expect(outcome.records.first?.reason == "submitted by alice")
                #expect(harness.job.pendingReason == .resources && harness.passes == 1)
            }
        ),
        Case(
            name: "placed: a new attempt, its allocation held, its node woken",
            start: { H.queued() },
            event: .placed(node: H.node, gpus: [2, 3]),
            state: .allocated,
            edges: ["QUEUED>ALLOCATED"],
            held: true,
            check: { harness, _ in
                #expect(harness.job.attempts.map(\.number) == [1] && harness.job.attempts[0].gpuIndices == [2, 3])
                #expect(harness.allocation?.delivered == false && harness.woken == [H.node])
            }
        ),
        Case(
            name: "placed twice is placed once",
            start: { H.allocated() },
            event: .placed(node: H.node, gpus: [0]),
            state: .allocated,
            edges: [],
            held: true,
            check: { harness, _ in #expect(harness.job.attempts.count == 1) }
        ),
        Case(
            name: "accepted: STARTING",
            start: { H.allocated(delivered: true) },
            event: .accepted(attempt: 1),
            state: .starting,
            edges: ["ALLOCATED>STARTING"],
            held: true
        ),
        Case(
            name: "accepted again: nothing new",
            start: { H.starting() },
            event: .accepted(attempt: 1),
            state: .starting,
            edges: [],
            held: true
        ),
        Case(
            name: "accepted for another attempt: nothing",
            start: { H.allocated() },
            event: .accepted(attempt: 7),
            state: .allocated,
            edges: [],
            held: true,
            check: { _, outcome in #expect(outcome.effects.isEmpty) }
        ),
        Case(
            name: "started: RUNNING with its pid",
            start: { H.starting() },
            event: .started(attempt: 1, pid: 77),
            state: .running,
            edges: ["STARTING>RUNNING"],
            held: true,
            check: { harness, _ in
                #expect(harness.job.attempts[0].pid == 77 && harness.job.attempts[0].startedAt == harness.now)
            }
        ),
        Case(
            name: "exit 0: SUCCEEDED, resources free",
            start: { H.running() },
            event: H.exited(0),
            state: .succeeded,
            edges: ["RUNNING>SUCCEEDED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.attempts[0].finalState == .succeeded && harness.job.attempts[0].endedAt != nil)
            }
        ),
        Case(
            name: "exit 3: FAILED with its code",
            start: { H.running() },
            event: H.exited(3),
            state: .failed,
            edges: ["RUNNING>FAILED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.attempts[0].exit?.code == 3 && harness.job.message == "exit code 3")
            }
        ),
        Case(
            name: "exit 3 with max_retries 2: retry 1 of 2",
            start: { H.running(.retrying(2)) },
            event: H.exited(3),
            state: .queued,
            edges: ["RUNNING>FAILED", "FAILED>QUEUED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.retriesUsed == 1 && harness.job.infraRetriesUsed == 0)
                #expect(harness.records.last?.reason == "retry 1 of 2, not before 5.0 seconds from now")
            }
        ),
        Case(
            name: "a signal: FAILED, SIGKILL explained",
            start: { H.running() },
            event: .ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(signal: 9))),
            state: .failed,
            edges: ["RUNNING>FAILED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.message?.contains("possibly out of memory") == true)
            }
        ),
        Case(
            name: "launch failed: FAILED",
            start: { H.starting() },
            event: .ended(attempt: 1, AttemptEnd(.launchFailed, exit: JobExit(message: "command not found: trian"))),
            state: .failed,
            edges: ["STARTING>FAILED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.message == "launch failed: command not found: trian")
            }
        ),
        Case(
            name: "staging: STARTING with the copy's progress as its message",
            start: { H.allocated(delivered: true) },
            event: .staging(attempt: 1, progress: "/nfs/model: copying 200.0M"),
            state: .starting,
            edges: ["ALLOCATED>STARTING", "STARTING>STARTING"],
            held: true,
            check: { harness, outcome in
                #expect(harness.job.message == "staging: /nfs/model: copying 200.0M")
                #expect(outcome.records.map(\.reason).last == "staging: /nfs/model: copying 200.0M")
            }
        ),
        Case(
            name: "staging again: the message moves on, no new record",
            start: {
                var harness = H.starting()
                harness.job.message = "staging: /nfs/model: copying 200.0M"
                return harness
            },
            event: .staging(attempt: 1, progress: "/nfs/model: 120.0M of 200.0M copied"),
            state: .starting,
            edges: [],
            held: true,
            check: { harness, outcome in
                #expect(harness.job.message == "staging: /nfs/model: 120.0M of 200.0M copied")
                #expect(outcome.records.isEmpty)
            }
        ),
        Case(
            name: "a launch the node could not prepare (stage cache full): LOST, retried from the node-fault budget",
            start: { H.starting() },
            event: .ended(
                attempt: 1,
                AttemptEnd(.nodeFault, exit: JobExit(message: "stage-in: the stage cache has no room for 200.0M"))
            ),
            state: .queued,
            edges: ["STARTING>LOST", "LOST>QUEUED"],
            held: false,
            check: { harness, outcome in
                #expect(
                    outcome.records[0].reason
                        == "could not be launched on gpu-1: stage-in: the stage cache has no room for 200.0M"
                )
                #expect(harness.job.infraRetriesUsed == 1 && harness.job.retriesUsed == 0)
            }
        ),
        Case(
            name: "an exit before any STARTING report: the missing steps are recorded",
            start: { H.allocated() },
            event: H.exited(0),
            state: .succeeded,
            edges: ["ALLOCATED>STARTING", "STARTING>RUNNING", "RUNNING>SUCCEEDED"],
            held: false
        ),
        Case(
            name: "the same exit twice: one transition",
            start: {
                var harness = H.running()
                harness.apply(H.exited(0))
                return harness
            },
            event: H.exited(1),
            state: .succeeded,
            edges: [],
            held: false,
            check: { harness, outcome in
                #expect(outcome.records.isEmpty && harness.job.attempts[0].exit?.code == 0)
            }
        ),
        Case(
            name: "fenced: LOST, then retried from the node-fault budget",
            start: { H.running() },
            event: .ended(attempt: 1, fenced),
            state: .queued,
            edges: ["RUNNING>LOST", "LOST>QUEUED"],
            held: false,
            check: { harness, outcome in
                #expect(outcome.records[0].reason.hasPrefix("fenced on gpu-1"))
                #expect(harness.job.infraRetriesUsed == 1 && harness.job.retriesUsed == 0)
                #expect(harness.records.last?.reason.hasSuffix("retry 1 of 2 (node faults)") == true)
            }
        ),
        Case(
            name: "fenced with the node-fault budget spent: stays LOST",
            start: {
                var harness = H.running()
                harness.job.infraRetriesUsed = 2
                return harness
            },
            event: .ended(attempt: 1, fenced),
            state: .lost,
            edges: ["RUNNING>LOST"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.message == "lost, and the infrastructure retry budget (2) is spent")
            }
        ),
        Case(
            name: "cancel QUEUED: CANCELED at once",
            start: { H.queued() },
            event: .cancel(by: "bob"),
            state: .canceled,
            edges: ["QUEUED>CANCELED"],
            held: false
        ),
        Case(
            name: "cancel ALLOCATED the agent never had: CANCELED, free at once",
            start: { H.allocated() },
            event: .cancel(by: "bob"),
            state: .canceled,
            edges: ["ALLOCATED>CANCELED"],
            held: false
        ),
        Case(
            name: "cancel ALLOCATED and delivered: a stop request, still held",
            start: { H.allocated(delivered: true) },
            event: .cancel(by: "bob"),
            state: .allocated,
            edges: ["ALLOCATED>ALLOCATED"],
            held: true,
            check: { harness, _ in
                #expect(harness.allocation?.stopRequestedAt != nil && harness.job.stopRequest?.isCancel == true)
            }
        ),
        Case(
            name: "cancel RUNNING: a stop request; not CANCELED while it may run",
            start: { H.running() },
            event: .cancel(by: "bob"),
            state: .running,
            edges: ["RUNNING>RUNNING"],
            held: true,
            check: { harness, outcome in
                #expect(outcome.records[0].reason == "cancel requested by bob: stopping its processes")
                #expect(outcome.effects.contains(.stop(AllocationID(job: JobID("job1"), attempt: 1))))
                #expect(harness.woken.last == H.node)
            }
        ),
        Case(
            name: "the stopped job's exit: CANCELED, whatever its code",
            start: {
                var harness = H.running()
                harness.apply(.cancel(by: "bob"))
                return harness
            },
            event: H.exited(143),
            state: .canceled,
            edges: ["RUNNING>CANCELED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.attempts[0].exit?.code == 143 && harness.job.attempts[0].finalState == .canceled)
            }
        ),
        Case(
            name: "canceled while STARTING, then its launch failed: CANCELED",
            start: {
                var harness = H.starting()
                harness.apply(.cancel(by: "bob"))
                return harness
            },
            event: .ended(attempt: 1, AttemptEnd(.launchFailed, exit: JobExit(message: "no such file"))),
            state: .canceled,
            edges: ["STARTING>CANCELED"],
            held: false
        ),
        Case(
            name: "cancel twice: one request",
            start: {
                var harness = H.running()
                harness.apply(.cancel(by: "bob"))
                return harness
            },
            event: .cancel(by: "carol"),
            state: .running,
            edges: [],
            held: true
        ),
        Case(
            name: "cancel CANCELED: nothing",
            start: {
                var harness = H.queued()
                harness.apply(.cancel(by: "bob"))
                return harness
            },
            event: .cancel(by: "bob"),
            state: .canceled,
            edges: [],
            held: false,
            check: { _, outcome in
                #expect(outcome.rejection == nil && outcome.storage == .none)
            }
        ),
        Case(
            name: "cancel SUCCEEDED: refused, nothing changes",
            start: {
                var harness = H.running()
                harness.apply(H.exited(0))
                return harness
            },
            event: .cancel(by: "bob"),
            state: .succeeded,
            edges: [],
            held: false,
            check: { _, outcome in
                #expect(outcome.rejection == .alreadyFinished(.succeeded) && outcome.storage == .none)
            }
        ),
        Case(
            name: "launch lease expired: back to QUEUED from the node-fault budget",
            start: { H.allocated() },
            event: .launchLeaseExpired(reason: "the agent on gpu-1 did not accept the launch within 30 seconds"),
            state: .queued,
            edges: ["ALLOCATED>QUEUED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.infraRetriesUsed == 1 && harness.job.attempts[0].endedAt != nil)
                #expect(harness.job.message?.contains("did not accept the launch") == true)
            }
        ),
        Case(
            name: "launch lease expired with the budget spent: FAILED",
            start: {
                var harness = H.allocated()
                harness.job.infraRetriesUsed = 2
                return harness
            },
            event: .launchLeaseExpired(reason: "not taken"),
            state: .failed,
            edges: ["ALLOCATED>FAILED"],
            held: false,
            check: {
                harness,
                _ in
                #expect(harness.job.message == "not taken, and the infrastructure retry budget (2) is spent")
            }
        ),
        Case(
            name: "launch lease expired with a cancel pending: CANCELED",
            start: {
                var harness = H.allocated(delivered: true)
                harness.apply(.cancel(by: "bob"))
                return harness
            },
            event: .launchLeaseExpired(reason: "not taken"),
            state: .canceled,
            edges: ["ALLOCATED>CANCELED"],
            held: false,
            check: { harness, _ in #expect(harness.job.infraRetriesUsed == 0) }
        ),
        Case(
            name: "node lost before the launch was handed out: QUEUED",
            start: { H.allocated() },
            event: .nodeLost(H.node, reason: "silent"),
            state: .queued,
            edges: ["ALLOCATED>QUEUED"],
            held: false,
            check: { harness, _ in #expect(harness.job.message?.hasPrefix("node gpu-1 was lost") == true) }
        ),
        Case(
            name: "node lost after its agent had the launch: held, it may be running there",
            start: { H.allocated(delivered: true) },
            event: .nodeLost(H.node, reason: "silent"),
            state: .allocated,
            edges: [],
            held: true,
            check: { harness, _ in #expect(harness.job.infraRetriesUsed == 0) }
        ),
        Case(
            name: "node lost while STARTING: LOST, still held",
            start: { H.starting() },
            event: .nodeLost(H.node, reason: "node gpu-1 stopped sending heartbeats"),
            state: .lost,
            edges: ["STARTING>LOST"],
            held: true
        ),
        Case(
            name: "node lost while RUNNING: LOST, still held (no retry yet)",
            start: { H.running() },
            event: .nodeLost(H.node, reason: "node gpu-1 stopped sending heartbeats"),
            state: .lost,
            edges: ["RUNNING>LOST"],
            held: true,
            check: { harness, _ in #expect(harness.job.infraRetriesUsed == 0) }
        ),
        Case(
            name: "another node lost: nothing",
            start: { H.running() },
            event: .nodeLost(NodeID("gpu-2"), reason: "x"),
            state: .running,
            edges: [],
            held: true
        ),
        Case(
            name: "LOST and surely gone: retried",
            start: { H.lost() },
            event: gone,
            state: .queued,
            edges: ["LOST>QUEUED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.infraRetriesUsed == 1 && harness.job.attempts[0].finalState == .lost)
                #expect(harness.job.message == "its allocation lease on gpu-1 expired: retry 1 of 2 (node faults)")
            }
        ),
        Case(
            name: "LOST, gone, budget spent: LOST for good",
            start: {
                var harness = H.lost()
                harness.job.infraRetriesUsed = 2
                return harness
            },
            event: gone,
            state: .lost,
            edges: [],
            held: false
        ),
        Case(
            name: "LOST and the agent confirms it fenced the job: retried",
            start: { H.lost() },
            event: .ended(attempt: 1, AttemptEnd(.fenced, exit: JobExit(signal: 9))),
            state: .queued,
            edges: ["LOST>QUEUED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.attempts[0].exit?.signal == 9 && harness.job.infraRetriesUsed == 1)
            }
        ),
        Case(
            name: "cancel LOST: the retry becomes CANCELED once gone",
            start: {
                var harness = H.lost()
                harness.apply(.cancel(by: "bob"))
                return harness
            },
            event: gone,
            state: .canceled,
            edges: ["LOST>CANCELED"],
            held: false
        ),
        Case(
            name: "cancel LOST for good: already finished",
            start: {
                var harness = H.lost()
                harness.job.infraRetriesUsed = 2
                harness.apply(gone)
                return harness
            },
            event: .cancel(by: "bob"),
            state: .lost,
            edges: [],
            held: false,
            check: { _, outcome in
                #expect(outcome.rejection == .alreadyFinished(.lost))
            }
        ),
        Case(
            name: "the agent restarted without it: LOST, then retried",
            start: { H.running() },
            event: .allocationGone(attempt: 1, reason: "the agent on gpu-1 restarted without it"),
            state: .queued,
            edges: ["RUNNING>LOST", "LOST>QUEUED"],
            held: false,
            check: { _, outcome in
                #expect(outcome.records[1].reason.hasPrefix("its process is gone (the agent on gpu-1 restarted"))
            }
        ),
        Case(
            name: "a canceling job whose agent no longer lists it: CANCELED",
            start: {
                var harness = H.running()
                harness.apply(.cancel(by: "bob"))
                return harness
            },
            event: .allocationGone(attempt: 1, reason: "no longer listed"),
            state: .canceled,
            edges: ["RUNNING>CANCELED"],
            held: false
        ),
        Case(
            name: "time limit: a stop request, then FAILED (TIMEOUT) on its exit",
            start: {
                var harness = H.running(.retrying(0, timeLimit: 60))
                harness.advance(.seconds(61))
                harness.apply(.timeLimitReached)
                return harness
            },
            event: .ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(signal: 15))),
            state: .failed,
            edges: ["RUNNING>FAILED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.attempts[0].exit?.timedOut == true)
                #expect(harness.job.message == "time limit reached (TIMEOUT)")
            }
        ),
        Case(
            name: "time limit not reached yet: nothing",
            start: { H.running(.retrying(0, timeLimit: 60)) },
            event: .timeLimitReached,
            state: .running,
            edges: [],
            held: true
        ),
        Case(
            name: "time limit stop, the agent no longer lists it: FAILED (TIMEOUT), retried",
            start: {
                var harness = H.running(.retrying(1, timeLimit: 60))
                harness.advance(.seconds(61))
                harness.apply(.timeLimitReached)
                return harness
            },
            event: .allocationGone(attempt: 1, reason: "gone"),
            state: .queued,
            edges: ["RUNNING>FAILED", "FAILED>QUEUED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.retriesUsed == 1 && harness.job.stopRequest == nil)
            }
        ),
        Case(
            name: "preempted while running: a stop request, then back in the queue, no budget spent",
            start: {
                var harness = H.running(.retrying(1))
                harness.apply(.preempt(by: JobID("urgent")))
                return harness
            },
            event: .ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(signal: 15))),
            state: .queued,
            edges: ["RUNNING>QUEUED"],
            held: false,
            check: { harness, _ in
                #expect(harness.job.retriesUsed == 0 && harness.job.infraRetriesUsed == 0)
                #expect(harness.job.preemptions == 1 && harness.job.stopRequest == nil)
                #expect(harness.job.attempts[0].preemptedBy == JobID("urgent"))
            }
        ),
        Case(
            name: "preempted while starting: back in the queue once its process is gone",
            start: {
                var harness = H.starting()
                harness.apply(.preempt(by: JobID("urgent")))
                return harness
            },
            event: .allocationGone(attempt: 1, reason: "no longer listed"),
            state: .queued,
            edges: ["STARTING>QUEUED"],
            held: false,
            check: { harness, _ in #expect(harness.job.preemptions == 1) }
        ),
        Case(
            name: "preempted, but it exited 0 before the stop took: SUCCEEDED, not run again",
            start: {
                var harness = H.running()
                harness.apply(.preempt(by: JobID("urgent")))
                return harness
            },
            event: H.exited(0),
            state: .succeeded,
            edges: ["RUNNING>SUCCEEDED"],
            held: false,
            check: { harness, _ in #expect(harness.job.preemptions == 0) }
        ),
        Case(
            name: "preempted while its launch was handed out, and never taken: back in the queue, no budget spent",
            start: {
                var harness = H.allocated(delivered: true)
                harness.apply(.preempt(by: JobID("urgent")))
                return harness
            },
            event: .launchLeaseExpired(reason: "not accepted"),
            state: .queued,
            edges: ["ALLOCATED>QUEUED"],
            held: false,
            check: { harness, _ in #expect(harness.job.infraRetriesUsed == 0 && harness.job.preemptions == 1) }
        ),
        Case(
            name: "a LOST job whose node comes back within the lease, still running it: RUNNING again",
            start: { H.lost() },
            event: .reconnected(attempt: 1),
            state: .running,
            edges: ["LOST>RUNNING"],
            held: true,
            check: { harness, _ in #expect(harness.job.attempts[0].finalState == nil) }
        ),
        Case(
            name: "a LOST job whose node reports its exit within the lease: ended by that exit, not retried",
            start: { H.lost(.retrying(2)) },
            event: .ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(code: 0))),
            state: .succeeded,
            edges: ["LOST>RUNNING", "RUNNING>SUCCEEDED"],
            held: false,
            check: { harness, _ in #expect(harness.job.infraRetriesUsed == 0 && harness.job.attempts.count == 1) }
        ),
        Case(
            name: "dependency failed: FAILED",
            start: { H.queued() },
            event: .dependencyFailed(JobID("dep"), .canceled),
            state: .failed,
            edges: ["QUEUED>FAILED"],
            held: false
        ),
        Case(
            name: "a live sample: memory only",
            start: { H.running() },
            event: .sampled(attempt: 1, ResourceUsage(cpuSeconds: 2, memoryBytes: 5, peakMemoryBytes: 9)),
            state: .running,
            edges: [],
            held: true,
            check: { harness, outcome in
                #expect(outcome.storage == .memoryOnly && harness.job.attempts[0].usage?.peakMemoryBytes == 9)
            }
        ),
    ]

    @Test(arguments: cases)
    func rule(_ row: Case) {
        var harness = row.start()
        let before = harness.records.count
        let outcome = harness.apply(row.event)
        #expect(harness.job.state == row.state)
        let edges = harness.records[before...].filter(\.applied).map {
            "\($0.from?.rawValue ?? "nil")>\($0.to?.rawValue ?? "nil")"
        }
        #expect(edges == row.edges)
        #expect((harness.allocation != nil) == row.held, "held: \(harness.allocations)")
        #expect(harness.allocations.isEmpty == !row.held, "no allocation may outlive its attempt")
        row.check(harness, outcome)
    }

    /// Every edge of docs/job-states.md is taken by some row of the table, and no row takes any other.
    @Test func theTableCoversEveryEdge() {
        var taken: Set<JobStateMachine.Edge> = []
        for row in Self.cases {
            var harness = row.start()
            harness.apply(row.event)
            for record in harness.records where record.applied {
                guard let from = record.from, let to = record.to, from != to else { continue }
                taken.insert(JobStateMachine.Edge(from, to))
            }
        }
        #expect(taken == JobStateMachine.edges, "missing: \(JobStateMachine.edges.subtracting(taken))")
    }

    /// A report for an attempt the job has left (a row from before stop requests existed: CANCELED at once,
    /// its process still running) keeps the attempt's end and is recorded as refused.
    @Test func aLateReportIsRecordedAsRefused() {
        var harness = LifecycleHarness.running()
        harness.job.state = .canceled
        let outcome = harness.apply(LifecycleHarness.exited(0))
        #expect(harness.job.state == .canceled && !outcome.transitioned)
        #expect(outcome.records.count == 1 && outcome.records[0].applied == false)
        #expect(outcome.records[0].reason == "refused: late report 'exit code 0' for a CANCELED job")
        #expect(harness.job.attempts[0].exit?.code == 0 && harness.allocations.isEmpty)
        #expect(outcome.touchedAttempts == [1] && outcome.storage == .durable)
    }

    /// An attempt ended without a word from its agent (its lease ran out on a lost node) keeps the exit its
    /// agent reports later, recorded as refused; a repeat of that report changes nothing more.
    @Test func aLateExitForAnAttemptEndedByItsLeaseIsKept() {
        var harness = LifecycleHarness.lost()
        harness.apply(JobLifecycleTests.gone)
        #expect(harness.job.state == .queued && harness.job.attempts[0].exit == nil)
        let late = harness.apply(.ended(attempt: 1, JobLifecycleTests.fenced))
        #expect(harness.job.state == .queued && !late.transitioned)
        #expect(harness.job.attempts[0].exit?.signal == 15)
        #expect(late.records.map(\.applied) == [false])
        #expect(late.records.first?.reason.contains("already ended") == true)
        let again = harness.apply(.ended(attempt: 1, JobLifecycleTests.fenced))
        #expect(again.records.isEmpty && again.storage == .none)
    }

    /// The final account keeps the peaks and GPU memory that only the samples saw.
    @Test func theFinalUsageKeepsTheSampledPeaks() {
        var harness = LifecycleHarness.running()
        harness.apply(
            .sampled(attempt: 1, ResourceUsage(cpuSeconds: 1, memoryBytes: 5, peakMemoryBytes: 50, gpuMemoryMiB: 700))
        )
        let final = ResourceUsage(cpuSeconds: 9, memoryBytes: 0, peakMemoryBytes: 30)
        harness.apply(.ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(code: 0), usage: final)))
        let usage = harness.job.attempts[0].usage
        #expect(usage?.cpuSeconds == 9 && usage?.peakMemoryBytes == 50 && usage?.gpuMemoryMiB == 700)
    }

    /// Each retry is a new attempt with its own node and GPUs; the budgets are separate and both enforced.
    @Test func budgetsAreSeparateAndEnforced() {
        var harness = LifecycleHarness.queued(.retrying(1))
        var nodes: [String] = []
        // Two node faults (the whole node-fault budget of 2), then the job's own failure twice.
        for step in 0..<4 {
            let node = NodeID("gpu-\(step)")
            nodes.append(node.rawValue)
            harness.apply(.placed(node: node, gpus: [step]))
            harness.apply(.accepted(attempt: step + 1))
            harness.apply(.started(attempt: step + 1, pid: 100))
            if step < 2 {
                harness.apply(.ended(attempt: step + 1, JobLifecycleTests.fenced))
            } else {
                harness.apply(.ended(attempt: step + 1, AttemptEnd(.exited, exit: JobExit(code: 1))))
            }
        }
        #expect(harness.job.state == .failed)
        #expect(harness.job.attempts.map(\.node.rawValue) == nodes)
        #expect(harness.job.infraRetriesUsed == 2 && harness.job.retriesUsed == 1)
        #expect(harness.job.attempts.map(\.finalState) == [.lost, .lost, .failed, .failed])
        #expect(harness.allocations.isEmpty)
    }

    /// Reports name their attempt: one for an attempt the job has left never moves the new one.
    @Test func reportsForAnOldAttemptNeverMoveTheNewOne() {
        var harness = LifecycleHarness.allocated()
        harness.apply(.launchLeaseExpired(reason: "not taken"))
        harness.apply(.placed(node: NodeID("gpu-2"), gpus: [0]))
        harness.deliver()
        for event: LifecycleEvent in [.accepted(attempt: 1), .started(attempt: 1, pid: 5), LifecycleHarness.exited(0)] {
            let outcome = harness.apply(event)
            #expect(!outcome.transitioned)
        }
        #expect(harness.job.state == .allocated && harness.job.currentAttempt?.number == 2)
        #expect(harness.allocation?.node == NodeID("gpu-2"))
    }
}
