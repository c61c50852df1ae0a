import ClusterCore
import Testing

/// The state machine against the table of DESIGN.md ("Job model"), written out here independently of
/// `JobStateMachine.edges`.
@Suite struct JobStateMachineTests {
    /// DESIGN.md, line by line:
    /// QUEUED -> ALLOCATED; ALLOCATED -> STARTING; ALLOCATED -> QUEUED; STARTING -> RUNNING; STARTING -> FAILED;
    /// RUNNING -> SUCCEEDED; RUNNING -> FAILED; STARTING|RUNNING -> LOST;
    /// QUEUED|ALLOCATED|STARTING|RUNNING -> CANCELED; LOST|FAILED -> QUEUED.
    /// Plus three edges the design is silent on (docs/job-states.md): QUEUED -> FAILED when a dependency ended
    /// without succeeding, so the job can never run; ALLOCATED -> FAILED when no agent took the launch and the
    /// node-fault budget is spent; LOST -> CANCELED when a job canceled on a lost node is surely gone. And
    /// three since: STARTING|RUNNING -> QUEUED when preempted (issue 15), LOST -> RUNNING when its node comes
    /// back within the lease still running it (issue 18).
    static let designTable: [String: Set<String>] = [
        "QUEUED": ["ALLOCATED", "CANCELED", "FAILED"],
        "ALLOCATED": ["STARTING", "QUEUED", "CANCELED", "FAILED"],
        "STARTING": ["RUNNING", "FAILED", "LOST", "CANCELED", "QUEUED"],
        "RUNNING": ["SUCCEEDED", "FAILED", "LOST", "CANCELED", "QUEUED"],
        "SUCCEEDED": [],
        "FAILED": ["QUEUED"],
        "LOST": ["QUEUED", "CANCELED", "RUNNING"],
        "CANCELED": [],
    ]

    static func expectedAllowed(_ from: JobState, _ to: JobState) -> Bool {
        designTable[from.rawValue]?.contains(to.rawValue) ?? false
    }

    @Test func thereAreEightStates() {
        #expect(JobState.allCases.count == 8)
        #expect(Set(JobState.allCases.map(\.rawValue)) == Set(Self.designTable.keys))
    }

    @Test func isAllowedMatchesTheDesignForAll64Pairs() {
        var checked = 0
        var allowed = 0
        for from in JobState.allCases {
            for to in JobState.allCases {
                let expected = Self.expectedAllowed(from, to)
                #expect(
                    JobStateMachine.isAllowed(from: from, to: to) == expected,
                    "\(from) -> \(to) should be \(expected ? "allowed" : "refused")"
                )
                checked += 1
                if expected { allowed += 1 }
            }
        }
        #expect(checked == 64)
        #expect(allowed == 21)
    }

    @Test func noStateMayTransitionToItself() {
        for state in JobState.allCases {
            #expect(!JobStateMachine.isAllowed(from: state, to: state))
        }
    }

    @Test func finishedAndPlacedFlags() {
        #expect(JobState.allCases.filter(\.isFinished) == [.succeeded, .failed, .lost, .canceled])
        #expect(JobState.allCases.filter(\.isPlaced) == [.allocated, .starting, .running])
        #expect(JobState.running.description == "RUNNING")
    }

    // MARK: handle

    /// One sample of each event, the states it may arrive in (DESIGN.md, written out here independently of the
    /// code), and the state it leads to.
    static let events: [(JobEvent, Set<JobState>, JobState)] = [
        (.allocate(node: NodeID("node-1"), gpus: [0, 1]), [.queued], .allocated),
        (.launchAbandoned(reason: "lease expired"), [.allocated], .queued),
        (.launchGaveUp(reason: "lease expired, budget spent"), [.allocated], .failed),
        (.accepted, [.allocated], .starting),
        (.started(pid: 4242), [.starting], .running),
        (.launchFailed(message: "cwd /nope does not exist"), [.starting], .failed),
        (.exited(JobExit(code: 0)), [.running], .succeeded),
        (.exited(JobExit(code: 3)), [.running], .failed),
        (.exited(JobExit(signal: 9)), [.running], .failed),
        (.exited(JobExit(code: 0, timedOut: true)), [.running], .failed),
        (.nodeLost(reason: "heartbeat stale"), [.starting, .running], .lost),
        (.cancel(by: "alice"), [.queued, .allocated, .starting, .running, .lost], .canceled),
        (.retry(reason: "retry 1 of 3"), [.failed, .lost], .queued),
        (.dependencyFailed(JobID("abc"), .failed), [.queued], .failed),
    ]

    @Test(arguments: JobState.allCases)
    func handleEveryEventFrom(_ state: JobState) {
        for (event, sources, target) in Self.events {
            var machine = JobStateMachine(state: state)
            if sources.contains(state) {
                #expect(Self.expectedAllowed(state, target), "every accepted event must follow a DESIGN.md edge")
                do {
                    let transition = try machine.handle(event)
                    #expect(transition.from == state)
                    #expect(transition.to == target)
                    #expect(!transition.reason.isEmpty)
                    #expect(machine.state == target)
                } catch {
                    Issue.record("\(state) should accept \(event): \(error)")
                }
            } else {
                let error = #expect(throws: TransitionError.self) { try machine.handle(event) }
                #expect(error?.from == state)
                #expect(machine.state == state, "a refused event must not change the state")
                #expect(error?.description.contains(state.rawValue) == true)
            }
        }
    }

    @Test func aHappyPathEndsInSucceeded() throws {
        var machine = JobStateMachine(state: .queued)
        let steps: [JobEvent] = [
            .allocate(node: NodeID("gpu-7"), gpus: [2, 3]), .accepted, .started(pid: 100), .exited(JobExit(code: 0)),
        ]
        var seen: [JobState] = []
        for step in steps { seen.append(try machine.handle(step).to) }
        #expect(seen == [.allocated, .starting, .running, .succeeded])
        #expect(machine.state == .succeeded)
    }

    @Test func reasonsDescribeTheEvent() throws {
        var machine = JobStateMachine(state: .queued)
        let placed = try machine.handle(.allocate(node: NodeID("gpu-7"), gpus: [2, 3]))
        #expect(placed.reason == "placed on gpu-7 with GPUs 2,3")
        let started = try { () throws(TransitionError) -> Transition in
            var m = JobStateMachine(state: .starting)
            return try m.handle(.started(pid: 77))
        }()
        #expect(started.reason.contains("77"))
        var running = JobStateMachine(state: .running)
        #expect(try running.handle(.cancel(by: "bob")).reason == "canceled by bob")
        var starting = JobStateMachine(state: .starting)
        #expect(try starting.handle(.launchFailed(message: "no such file")).reason.contains("no such file"))
    }

    @Test(arguments: [
        (JobExit(code: 0), JobState.succeeded),
        (JobExit(code: 1), .failed),
        (JobExit(code: 137), .failed),
        (JobExit(code: 255), .failed),
        (JobExit(code: -1), .failed),
        (JobExit(signal: 9), .failed),
        (JobExit(signal: 15), .failed),
        (JobExit(code: 0, signal: 9), .failed),
        (JobExit(code: 0, timedOut: true), .failed),
        (JobExit(timedOut: true), .failed),
        (JobExit(), .failed),
    ])
    func exitFromRunning(_ exit: JobExit, _ expected: JobState) throws {
        var machine = JobStateMachine(state: .running)
        let transition = try machine.handle(.exited(exit))
        #expect(transition.to == expected)
        #expect(exit.isSuccess == (expected == .succeeded))
    }

    @Test func aLateExitOnACanceledJobIsRefused() {
        for exit in [JobExit(code: 0), JobExit(code: 1), JobExit(signal: 9)] {
            var machine = JobStateMachine(state: .canceled)
            let error = #expect(throws: TransitionError.self) { try machine.handle(.exited(exit)) }
            #expect(error?.from == .canceled)
            #expect(machine.state == .canceled)
        }
        var machine = JobStateMachine(state: .canceled)
        let error = #expect(throws: TransitionError.self) { try machine.handle(.exited(JobExit(code: 0))) }
        #expect(error?.event == "exited 0")
        #expect(error?.description == "a job in CANCELED cannot take 'exited 0'")
    }

    @Test func aSecondExitIsRefused() throws {
        var machine = JobStateMachine(state: .running)
        _ = try machine.handle(.exited(JobExit(code: 0)))
        #expect(throws: TransitionError.self) { try machine.handle(.exited(JobExit(code: 0))) }
        #expect(machine.state == .succeeded)
    }

    static func accepts(_ state: JobState, _ event: JobEvent) -> Bool {
        var machine = JobStateMachine(state: state)
        return (try? machine.handle(event)) != nil
    }

    /// DESIGN.md gives each edge its cause: "ALLOCATED -> QUEUED: lease expired or node lost before the agent
    /// accepted" and "LOST|FAILED -> QUEUED: only by the retry policy, as a new attempt".
    @Test func retryRequeuesOnlyFailedOrLostJobs() throws {
        for state in JobState.allCases where state != .allocated {
            #expect(Self.accepts(state, .retry(reason: "again")) == [.failed, .lost].contains(state), "\(state)")
        }
        var failed = JobStateMachine(state: .failed)
        let retry = try failed.handle(.retry(reason: "retry 1 of 3"))
        #expect(retry.from == .failed && retry.to == .queued && retry.reason == "retry 1 of 3")
        do {
            #expect(!Self.accepts(.allocated, .retry(reason: "again")))
        }
    }

    @Test func launchAbandonedRequeuesOnlyAllocatedJobs() {
        for state in JobState.allCases where state != .failed && state != .lost {
            #expect(Self.accepts(state, .launchAbandoned(reason: "lease expired")) == (state == .allocated), "\(state)")
        }
        // A late lease expiry must not bring back a FAILED or LOST job past the retry policy (max_retries).
        do {
            #expect(!Self.accepts(.failed, .launchAbandoned(reason: "lease expired")))
            #expect(!Self.accepts(.lost, .launchAbandoned(reason: "lease expired")))
        }
    }

    // MARK: describe

    @Test func describeTexts() {
        #expect(JobStateMachine.describe(JobExit(code: 0)) == "exit code 0")
        #expect(JobStateMachine.describe(JobExit(code: 3)) == "exit code 3")
        #expect(JobStateMachine.describe(JobExit(code: 3, message: "boom")) == "exit code 3: boom")
        #expect(JobStateMachine.describe(JobExit(code: 3, message: "")) == "exit code 3")
        #expect(JobStateMachine.describe(JobExit(timedOut: true)) == "time limit reached (TIMEOUT)")
        #expect(
            JobStateMachine.describe(JobExit(code: 1, signal: 15, timedOut: true)) == "time limit reached (TIMEOUT)"
        )
        #expect(JobStateMachine.describe(JobExit()) == "ended")
        #expect(JobStateMachine.describe(JobExit(signal: 15)) == "killed by SIGTERM")
        #expect(JobStateMachine.describe(JobExit(signal: 11)) == "killed by SIGSEGV")
        #expect(JobStateMachine.describe(JobExit(signal: 64)) == "killed by signal 64")
    }

    @Test func describeExplainsOutOfMemory() {
        let code137 = JobStateMachine.describe(JobExit(code: 137))
        #expect(code137.hasPrefix("exit code 137"))
        #expect(code137.contains("SIGKILL"))
        #expect(code137.contains("out of memory"))
        let sigkill = JobStateMachine.describe(JobExit(signal: 9, message: "oom-killer"))
        #expect(sigkill.hasPrefix("killed by SIGKILL"))
        #expect(sigkill.contains("out of memory"))
        #expect(sigkill.hasSuffix(": oom-killer"))
        #expect(!JobStateMachine.describe(JobExit(code: 1)).contains("memory"))
        #expect(!JobStateMachine.describe(JobExit(signal: 15)).contains("memory"))
    }

    @Test(arguments: [
        (Int32(1), "SIGHUP"), (2, "SIGINT"), (6, "SIGABRT"), (9, "SIGKILL"), (11, "SIGSEGV"), (13, "SIGPIPE"),
        (15, "SIGTERM"), (24, "SIGXCPU"), (0, "signal 0"), (-3, "signal -3"), (99, "signal 99"),
    ])
    func signalNames(_ number: Int32, _ name: String) {
        #expect(SignalName.name(number) == name)
    }
}
