import ClusterCore
import Testing

/// Node liveness: which nodes are lost, when a lost job may run elsewhere, what an agent's registration and
/// heartbeats mean for its allocations. Jobs are brought to their states through `JobLifecycle` (the harness).
@Suite struct NodeLivenessTests {
    static let settings = LivenessSettings(
        nodeTimeout: .seconds(30),
        launchLease: .seconds(30),
        allocationLease: .seconds(120),
        heartbeatInterval: .seconds(5)
    )
    static let start = Timestamp(milliseconds: 1_000_000)

    static func node(_ name: String, heartbeat: Timestamp = start, agentLease: Duration? = nil) -> Node {
        var node = Node(
            id: NodeID(name),
            hostname: name,
            gpus: [],
            cpus: 8,
            memory: 1 << 34,
            registeredAt: start,
            lastHeartbeat: heartbeat
        )
        node.agentLease = agentLease
        return node
    }

    /// A view of the harness's job and allocations, on `nodes`, `elapsed` after both the controller's start
    /// and the job's last renewal.
    static func view(
        _ harness: LifecycleHarness,
        nodes: [Node] = [node("gpu-1")],
        at now: Timestamp,
        startedAt: Timestamp = start
    ) -> LivenessView {
        LivenessView(
            nodes: Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0) }),
            allocations: harness.allocations,
            jobs: [harness.job.id: harness.job],
            settings: settings,
            startedAt: startedAt,
            now: now
        )
    }

    static let job = JobID("job1")
    static let allocation = AllocationID(job: job, attempt: 1)

    // MARK: The tick

    @Test func aLaunchNeverHandedOutGoesBackAfterTheLaunchLease() {
        let harness = LifecycleHarness.allocated()
        #expect(NodeLiveness.tick(Self.view(harness, at: Self.start + .seconds(29))).isEmpty)
        let actions = NodeLiveness.tick(Self.view(harness, at: Self.start + .seconds(31)))
        let reason = "the agent on gpu-1 did not accept the launch within 30.0 seconds"
        #expect(actions == [.job(Self.job, .launchLeaseExpired(reason: reason))])
    }

    /// A launch handed to the agent may have started there. It goes back only when the agent's heartbeats,
    /// well after the delivery, do not list it, or once its lease has run out: a silent agent may run it.
    @Test func aLaunchHandedOutGoesBackOnlyWhenNoCopyCanRun() {
        let harness = LifecycleHarness.allocated(delivered: true)
        let expired = LifecycleEvent.launchLeaseExpired(
            reason: "the agent on gpu-1 did not accept the launch within 30.0 seconds"
        )
        let at31 = Self.start + .seconds(31)
        // Silent since the delivery: wait for the lease (120 s).
        let silent = Self.node("gpu-1", heartbeat: Self.start)
        #expect(!NodeLiveness.tick(Self.view(harness, nodes: [silent], at: at31)).contains(.job(Self.job, expired)))
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: [silent], at: Self.start + .seconds(121)))
                .contains(.job(Self.job, expired))
        )
        // Heartbeating 20 s after the delivery without listing it: the agent does not have it.
        let talking = Self.node("gpu-1", heartbeat: Self.start + .seconds(20))
        #expect(NodeLiveness.tick(Self.view(harness, nodes: [talking], at: at31)).contains(.job(Self.job, expired)))
        // A heartbeat that lists it renews its lease: the agent has it, it stays.
        var listed = harness
        listed.allocations[Self.allocation]?.leaseRenewedAt = Self.start + .seconds(20)
        #expect(!NodeLiveness.tick(Self.view(listed, nodes: [talking], at: at31)).contains(.job(Self.job, expired)))
    }

    @Test func aSilentNodeIsLostWithItsJobs() {
        let harness = LifecycleHarness.running()
        let silent = Self.node("gpu-1", heartbeat: Self.start)
        let early = Self.start + .seconds(29)
        #expect(NodeLiveness.tick(Self.view(harness, nodes: [silent], at: early, startedAt: .zero)).isEmpty)
        let now = Self.start + .seconds(31)
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: [silent], at: now, startedAt: .zero)) == [
                .markLost(NodeID("gpu-1")),
                .job(Self.job, .nodeLost(NodeID("gpu-1"), reason: "node gpu-1 stopped sending heartbeats")),
            ]
        )
    }

    /// After a controller restart no node is judged lost for one lease: the agents kept their jobs meanwhile.
    /// The lease is the agent's when that is longer (learnt from an earlier controller with a longer one).
    @Test func aRestartedControllerWaitsTheLongerOfTheTwoLeases() {
        let harness = LifecycleHarness.running()
        let restart = Self.start
        let silent = Self.node("gpu-1", heartbeat: .zero)
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: [silent], at: restart + .seconds(119), startedAt: restart))
                .isEmpty
        )
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: [silent], at: restart + .seconds(121), startedAt: restart))
                .first == .markLost(NodeID("gpu-1"))
        )
        let longer = Self.node("gpu-1", heartbeat: .zero, agentLease: .seconds(600))
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: [longer], at: restart + .seconds(599), startedAt: restart))
                .isEmpty
        )
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: [longer], at: restart + .seconds(601), startedAt: restart))
                .first == .markLost(NodeID("gpu-1"))
        )
    }

    @Test func mostNodesSilentAtOnceIsTheControllersOwnFault() {
        let harness = LifecycleHarness.running()
        let now = Self.start + .seconds(100)
        let nodes = (1...4).map { Self.node("gpu-\($0)", heartbeat: $0 == 4 ? now : Self.start) }
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: nodes, at: now, startedAt: .zero)) == [
                .suspectSelf(silent: 3, alive: 4)
            ]
        )
        // Two of four is not most: they are lost.
        let fewer = (1...4).map { Self.node("gpu-\($0)", heartbeat: $0 > 2 ? now : Self.start) }
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: fewer, at: now, startedAt: .zero)).contains(
                .markLost(NodeID("gpu-2"))
            )
        )
    }

    /// The fencing rule: a LOST job runs elsewhere only once the lease its agent holds has run out, never on the
    /// controller's own shorter lease.
    @Test func aLostJobIsRetriedOnlyAfterTheLeaseItsAgentHolds() {
        var harness = LifecycleHarness.lost()
        harness.allocations[Self.allocation]?.leaseRenewedAt = Self.start
        let expired = LifecycleEvent.allocationGone(attempt: 1, reason: "its allocation lease on gpu-1 expired")
        // The node was judged lost already: the tick's only business with it is this job's lease.
        var node = Self.node("gpu-1", heartbeat: .zero)
        node.status = .lost
        func tick(_ node: Node, at seconds: Int64) -> [LivenessAction] {
            NodeLiveness.tick(Self.view(harness, nodes: [node], at: Self.start + .seconds(seconds), startedAt: .zero))
        }
        #expect(tick(node, at: 119).isEmpty)
        #expect(tick(node, at: 121) == [.job(Self.job, expired)])
        // The agent was told 300 s by an earlier controller: 121 s is not enough.
        var longer = Self.node("gpu-1", heartbeat: .zero, agentLease: .seconds(300))
        longer.status = .lost
        #expect(tick(longer, at: 299).isEmpty)
        #expect(tick(longer, at: 301) == [.job(Self.job, expired)])
    }

    @Test func aJobPastItsTimeLimitIsStoppedOnce() {
        var harness = LifecycleHarness.running(.retrying(0, timeLimit: 60))
        let node = Self.node("gpu-1", heartbeat: Self.start + .seconds(61))
        #expect(
            !NodeLiveness.tick(Self.view(harness, nodes: [node], at: Self.start + .seconds(59))).contains(
                .job(Self.job, .timeLimitReached)
            )
        )
        #expect(
            NodeLiveness.tick(Self.view(harness, nodes: [node], at: Self.start + .seconds(61))).contains(
                .job(Self.job, .timeLimitReached)
            )
        )
        harness.advance(.seconds(61))
        harness.apply(.timeLimitReached)
        #expect(
            !NodeLiveness.tick(Self.view(harness, nodes: [node], at: Self.start + .seconds(62))).contains(
                .job(Self.job, .timeLimitReached)
            )
        )
    }

    // MARK: Registration

    @Test func registrationKeepsWhatTheAgentStillRuns() {
        let harness = LifecycleHarness.running()
        let view = Self.view(harness, at: Self.start)
        #expect(
            NodeLiveness.registration(
                node: NodeID("gpu-1"),
                reported: [Self.allocation],
                rebooted: false,
                held: Array((view).allocations.values),
                view: view
            )
                == [.effect(.renewLease(Self.allocation))]
        )
        let gone = NodeLiveness.registration(
            node: NodeID("gpu-1"),
            reported: [],
            rebooted: false,
            held: Array((view).allocations.values),
            view: view
        )
        #expect(
            gone == [.job(Self.job, .allocationGone(attempt: 1, reason: "the agent on gpu-1 restarted without it"))]
        )
        // A new boot id: nothing of before runs, whatever the agent lists.
        let rebooted = NodeLiveness.registration(
            node: NodeID("gpu-1"),
            reported: [Self.allocation],
            rebooted: true,
            held: Array((view).allocations.values),
            view: view
        )
        #expect(rebooted == [.job(Self.job, .allocationGone(attempt: 1, reason: "node gpu-1 rebooted"))])
    }

    @Test func aNewBootIdIsAReboot() {
        #expect(NodeLiveness.rebooted(previous: "a", now: "b"))
        #expect(!NodeLiveness.rebooted(previous: "a", now: "a"))
        #expect(!NodeLiveness.rebooted(previous: nil, now: "a"))  // a first registration
        #expect(!NodeLiveness.rebooted(previous: "a", now: nil))  // a node that cannot tell
    }

    @Test func registrationHandsOutALaunchAgainAndStopsALostCopy() {
        let allocated = LifecycleHarness.allocated(delivered: true)
        #expect(
            NodeLiveness.registration(
                node: NodeID("gpu-1"),
                reported: [],
                rebooted: false,
                held: Array((Self.view(allocated, at: Self.start)).allocations.values),
                view: Self.view(allocated, at: Self.start)
            ) == [.effect(.redeliver(Self.allocation))]
        )
        // Listed by the agent (it took the launch; its STARTING report is on its way): it has it, never requeued.
        #expect(
            NodeLiveness.registration(
                node: NodeID("gpu-1"),
                reported: [Self.allocation],
                rebooted: false,
                held: Array((Self.view(allocated, at: Self.start)).allocations.values),
                view: Self.view(allocated, at: Self.start)
            ) == [.effect(.renewLease(Self.allocation))]
        )
        let lost = LifecycleHarness.lost()
        #expect(
            NodeLiveness.registration(
                node: NodeID("gpu-1"),
                reported: [Self.allocation],
                rebooted: false,
                held: Array((Self.view(lost, at: Self.start)).allocations.values),
                view: Self.view(lost, at: Self.start)
            ) == [.job(Self.job, .reconnected(attempt: 1, rank: 0))],
            "back within the lease, still running it: it runs on (issue 18)"
        )
        // The same with a cancel pending: that copy is stopped.
        var canceled = LifecycleHarness.lost()
        canceled.apply(.cancel(by: "bob"))
        #expect(
            NodeLiveness.registration(
                node: NodeID("gpu-1"),
                reported: [Self.allocation],
                rebooted: false,
                held: Array((Self.view(canceled, at: Self.start)).allocations.values),
                view: Self.view(canceled, at: Self.start)
            ) == [
                .effect(.renewLease(Self.allocation)), .effect(.stop(Self.allocation)), .effect(.wake(NodeID("gpu-1"))),
            ]
        )
        #expect(
            NodeLiveness.registration(
                node: NodeID("gpu-1"),
                reported: [],
                rebooted: false,
                held: Array((Self.view(lost, at: Self.start)).allocations.values),
                view: Self.view(lost, at: Self.start)
            )
                == [
                    .job(
                        Self.job,
                        .allocationGone(
                            attempt: 1,
                            reason: "its process is gone (the agent on gpu-1 restarted without it)"
                        )
                    )
                ]
        )
        // Another node's registration touches nothing here.
        #expect(
            NodeLiveness.registration(
                node: NodeID("gpu-9"),
                reported: [],
                rebooted: true,
                held: Array((Self.view(lost, at: Self.start)).allocations.values),
                view: Self.view(lost, at: Self.start)
            ).isEmpty
        )
    }

    // MARK: Heartbeats

    @Test func heartbeatsRenewWhatTheyListAndSettleWhatTheyDoNot() {
        let running = LifecycleHarness.running()
        let node = NodeID("gpu-1")
        #expect(
            NodeLiveness.heartbeat(
                node: node,
                reported: [Self.allocation],
                held: Array((Self.view(running, at: Self.start)).allocations.values),
                view: Self.view(running, at: Self.start)
            )
                == [.effect(.renewLease(Self.allocation))]
        )
        // A RUNNING job missing from one heartbeat is not judged: that heartbeat may predate its launch.
        #expect(
            NodeLiveness.heartbeat(
                node: node,
                reported: [],
                held: Array((Self.view(running, at: Self.start)).allocations.values),
                view: Self.view(running, at: Self.start)
            ).isEmpty
        )
        let lost = LifecycleHarness.lost()
        #expect(
            NodeLiveness.heartbeat(
                node: node,
                reported: [Self.allocation],
                held: Array((Self.view(lost, at: Self.start)).allocations.values),
                view: Self.view(lost, at: Self.start)
            ) == [.effect(.renewLease(Self.allocation)), .job(Self.job, .reconnected(attempt: 1, rank: 0))]
        )
        #expect(
            NodeLiveness.heartbeat(
                node: node,
                reported: [],
                held: Array((Self.view(lost, at: Self.start)).allocations.values),
                view: Self.view(lost, at: Self.start)
            ) == [
                .job(Self.job, .allocationGone(attempt: 1, reason: "the agent on gpu-1 no longer runs it"))
            ]
        )
    }

    @Test func aStoppedAllocationIsGoneOnceHeartbeatsStopListingIt() {
        var canceling = LifecycleHarness.running()
        canceling.apply(.cancel(by: "bob"))
        let node = NodeID("gpu-1")
        let grace = Self.settings.stopGrace
        #expect(
            NodeLiveness.heartbeat(
                node: node,
                reported: [],
                held: Array((Self.view(canceling, at: canceling.now + grace)).allocations.values),
                view: Self.view(canceling, at: canceling.now + grace)
            )
            .isEmpty
        )
        #expect(
            NodeLiveness.heartbeat(
                node: node,
                reported: [],
                held: Array((Self.view(canceling, at: canceling.now + grace + .milliseconds(1))).allocations.values),
                view: Self.view(canceling, at: canceling.now + grace + .milliseconds(1))
            ) == [.job(Self.job, .allocationGone(attempt: 1, reason: "the agent on gpu-1 no longer runs it"))]
        )
    }

    @Test func theStopListHasUnwantedAndStoppingAllocations() {
        var canceling = LifecycleHarness.running()
        canceling.apply(.cancel(by: "bob"))
        let stranger = AllocationID(job: JobID("other"), attempt: 3)
        let node = NodeID("gpu-1")
        #expect(
            NodeLiveness.stopList(
                node: node,
                reported: [stranger],
                held: Array(canceling.allocations.values),
                allocations: canceling.allocations
            ) == [
                stranger, Self.allocation,
            ]
        )
        let running = LifecycleHarness.running()
        #expect(
            NodeLiveness.stopList(
                node: node,
                reported: [Self.allocation],
                held: Array(running.allocations.values),
                allocations: running.allocations
            ).isEmpty
        )
        // Reported from the wrong node: stop it there.
        #expect(
            NodeLiveness.stopList(
                node: NodeID("gpu-2"),
                reported: [Self.allocation],
                held: [],
                allocations: running.allocations
            )
                == [Self.allocation]
        )
    }

    // MARK: Settings

    @Test func aLeaseShorterThanFourHeartbeatsIsRefused() {
        var settings = LivenessSettings(allocationLease: .seconds(19), heartbeatInterval: .seconds(5))
        #expect(settings.problem?.contains("at least 4 heartbeat intervals (20 s") == true)
        settings.allocationLease = .seconds(20)
        #expect(settings.problem == nil)
        #expect(LivenessSettings(allocationLease: .seconds(2), heartbeatInterval: .milliseconds(500)).problem == nil)
    }

    @Test func theAgentMayHoldTheLongerOfWhatItSaidAndWhatItIsTold() {
        #expect(Duration.agentLease(reported: .seconds(300), told: .seconds(20)) == .seconds(300))
        #expect(Duration.agentLease(reported: .seconds(20), told: .seconds(120)) == .seconds(120))
        #expect(Duration.agentLease(reported: nil, told: .seconds(20)) == .seconds(20))
    }
}
