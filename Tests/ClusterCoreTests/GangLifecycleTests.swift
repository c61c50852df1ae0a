import ClusterCore
import Testing

/// The lifecycle of gang jobs: ranks live and die together, and no rank's resources are freed while its
/// processes may run. A small stand-in for the controller keeps the allocations the effects hold, stop and
/// release, and gives the lifecycle the context the real one does.
@Suite struct GangLifecycleTests {
    struct World {
        var job: Job
        var allocations: [AllocationID: Allocation] = [:]
        var stopped: Set<AllocationID> = []
        var now = Timestamp(milliseconds: 1_000_000)
        var policy = LifecyclePolicy(infrastructureRetries: 2)

        init(nodes: Int = 3, maxRetries: Int = 0) {
            var spec = JobSpec(command: ["torchrun"], resources: Resources(gpus: 2, cpus: 1), nodes: nodes)
            spec.maxRetries = maxRetries
            job = Job(id: JobID("g"), spec: spec, user: "alice", submittedAt: Timestamp(milliseconds: 1))
        }

        @discardableResult
        mutating func handle(_ event: LifecycleEvent) -> LifecycleOutcome {
            now = now + .seconds(1)
            var held: [Int: Allocation] = [:]
            for id in job.liveAttempt?.allocationIDs(of: job.id) ?? [] { held[id.rank] = allocations[id] }
            let outcome = JobLifecycle.handle(
                event,
                job: job,
                context: LifecycleContext(now: now, policy: policy, allocations: held)
            )
            job = outcome.job
            for effect in outcome.effects {
                switch effect {
                case .hold(let allocation): allocations[allocation.id] = allocation
                case .release(let id): allocations[id] = nil
                case .stop(let id): stopped.insert(id)
                case .renewLease(let id): allocations[id]?.delivered = true
                default: break
                }
            }
            return outcome
        }

        mutating func place() {
            let ranks = (0..<job.spec.nodes).map { Placement(node: NodeID("n\($0)"), gpuIndices: [0, 1]) }
            handle(.placedGang(ranks, port: 29_500))
        }

        mutating func startAll(attempt: Int = 1) {
            for rank in 0..<job.spec.nodes { handle(.accepted(attempt: attempt, rank: rank)) }
            for rank in 0..<job.spec.nodes { handle(.started(attempt: attempt, pid: Int32(100 + rank), rank: rank)) }
        }

        func id(_ rank: Int, attempt: Int = 1) -> AllocationID {
            AllocationID(job: job.id, attempt: attempt, rank: rank)
        }
    }

    static func exit(_ code: Int32) -> AttemptEnd { AttemptEnd(.exited, exit: JobExit(code: code)) }
    static let terminated = AttemptEnd(.exited, exit: JobExit(signal: 15))

    @Test func aGangRunsOnlyOnceEveryRankRunsAndSucceedsWhenAllExitZero() {
        var world = World()
        world.place()
        #expect(world.job.state == .allocated)
        #expect(world.allocations.count == 3)
        #expect(world.job.currentAttempt?.masterPort == 29_500)
        world.handle(.accepted(attempt: 1, rank: 0))
        world.handle(.accepted(attempt: 1, rank: 1))
        #expect(world.job.state == .allocated)
        world.handle(.accepted(attempt: 1, rank: 2))
        #expect(world.job.state == .starting)
        world.handle(.started(attempt: 1, pid: 10, rank: 0))
        world.handle(.started(attempt: 1, pid: 11, rank: 2))
        #expect(world.job.state == .starting)
        world.handle(.started(attempt: 1, pid: 12, rank: 1))
        #expect(world.job.state == .running)
        #expect(world.job.currentAttempt?.pid == 10)
        world.handle(.ended(attempt: 1, Self.exit(0), rank: 1))
        world.handle(.ended(attempt: 1, Self.exit(0), rank: 0))
        #expect(world.job.state == .running)
        #expect(world.stopped.isEmpty)
        world.handle(.ended(attempt: 1, Self.exit(0), rank: 2))
        #expect(world.job.state == .succeeded)
        #expect(world.allocations.isEmpty)
        #expect(world.job.currentAttempt?.endedAt != nil)
    }

    @Test func aFailedRankStopsTheOthersAndTheWholeGangIsRetried() {
        var world = World(maxRetries: 1)
        world.place()
        world.startAll()
        world.handle(.ended(attempt: 1, Self.exit(3), rank: 1))
        #expect(world.job.state == .running)
        #expect(world.stopped == [world.id(0), world.id(2)])
        #expect(world.allocations.count == 2)  // ranks 0 and 2 may still run
        #expect(world.job.currentAttempt?.failedRank == 1)
        world.handle(.ended(attempt: 1, Self.terminated, rank: 0))
        #expect(world.job.state == .running)
        world.handle(.ended(attempt: 1, Self.terminated, rank: 2))
        // Retried as a whole: a new attempt will place every rank again.
        #expect(world.job.state == .queued)
        #expect(world.job.retriesUsed == 1)
        #expect(world.allocations.isEmpty)
        #expect(world.job.attempts[0].finalState == .failed)
        #expect(world.job.attempts[0].exit?.message?.contains("rank 1 on n1") == true)
        world.place()
        #expect(world.job.attempts.count == 2 && world.job.state == .allocated)
        world.startAll(attempt: 2)
        world.handle(.ended(attempt: 2, Self.exit(1), rank: 0))
        world.handle(.ended(attempt: 2, Self.terminated, rank: 1))
        world.handle(.ended(attempt: 2, Self.terminated, rank: 2))
        #expect(world.job.state == .failed)
        #expect(world.job.message?.contains("exit code 1: rank 0 on n0") == true)
    }

    @Test func cancelStopsEveryRankAndEndsCanceledWhenAllAreGone() {
        var world = World(nodes: 2)
        world.place()
        world.startAll()
        world.handle(.cancel(by: "alice"))
        #expect(world.job.state == .running && world.job.stopRequest?.isCancel == true)
        #expect(world.stopped == [world.id(0), world.id(1)])
        world.handle(.ended(attempt: 1, Self.terminated, rank: 0))
        #expect(world.job.state == .running)
        world.handle(.ended(attempt: 1, Self.terminated, rank: 1))
        #expect(world.job.state == .canceled)
        #expect(world.allocations.isEmpty)
    }

    @Test func aCancelBeforeAnyAgentHadTheLaunchEndsAtOnce() {
        var world = World(nodes: 2)
        world.place()
        world.handle(.cancel(by: "alice"))
        #expect(world.job.state == .canceled)
        #expect(world.allocations.isEmpty)
        #expect(world.stopped.isEmpty)
    }

    @Test func aLostNodeMakesTheGangLostAndItIsRetriedOnlyOnceEveryRankIsGone() {
        var world = World()
        world.place()
        world.startAll()
        world.handle(.nodeLost(NodeID("n1"), reason: "node n1 stopped sending heartbeats"))
        #expect(world.job.state == .lost)
        #expect(world.stopped == [world.id(0), world.id(2)])
        world.handle(.ended(attempt: 1, Self.terminated, rank: 0))
        world.handle(.ended(attempt: 1, Self.terminated, rank: 2))
        // Rank 1 may still run on the silent node: held until its lease runs out.
        #expect(world.job.state == .lost)
        #expect(world.allocations.keys.sorted() == [world.id(1)])
        world.handle(.allocationGone(attempt: 1, reason: "its allocation lease on n1 expired", rank: 1))
        #expect(world.job.state == .queued)
        #expect(world.job.infraRetriesUsed == 1 && world.job.retriesUsed == 0)
        #expect(world.allocations.isEmpty)
    }

    @Test func aLaunchOneAgentNeverTookStopsTheRanksThatStartedAndRequeues() {
        var world = World(nodes: 2)
        world.place()
        world.handle(.accepted(attempt: 1, rank: 0))
        world.handle(.started(attempt: 1, pid: 7, rank: 0))
        #expect(world.job.state == .allocated)  // rank 1 was never taken
        world.handle(.launchLeaseExpired(reason: "the agent on n1 did not accept the launch", rank: 1))
        #expect(world.job.state == .allocated)
        #expect(world.stopped == [world.id(0)])
        #expect(world.allocations.keys.sorted() == [world.id(0)])
        world.handle(.ended(attempt: 1, Self.terminated, rank: 0))
        #expect(world.job.state == .queued)
        #expect(world.job.infraRetriesUsed == 1)
        #expect(world.allocations.isEmpty)
    }

    @Test func aLateReportForARankThatEndedIsRefusedAndChangesNothing() {
        var world = World(nodes: 2)
        world.place()
        world.startAll()
        world.handle(.ended(attempt: 1, Self.exit(0), rank: 0))
        let repeated = world.handle(.ended(attempt: 1, Self.exit(0), rank: 0))
        #expect(repeated.storage == .none)
        #expect(world.job.state == .running)
        // A report naming a rank the gang does not have is ignored.
        let unknown = world.handle(.ended(attempt: 1, Self.exit(0), rank: 9))
        #expect(unknown.storage == .none)
    }

    @Test func theTimeLimitStopsEveryRankAndEndsInTimeout() {
        var world = World(nodes: 2)
        world.job.spec.timeLimit = 10
        world.place()
        world.startAll()
        world.now = world.now + .seconds(60)
        world.handle(.timeLimitReached)
        #expect(world.stopped == [world.id(0), world.id(1)])
        world.handle(.ended(attempt: 1, Self.terminated, rank: 0))
        world.handle(.ended(attempt: 1, Self.terminated, rank: 1))
        #expect(world.job.state == .failed)
        #expect(world.job.currentAttempt?.exit?.timedOut == true)
    }

    @Test func aLostNodeBeforeEveryRankWasTakenDoomsTheGangUntilItsRanksLeaseRunsOut() {
        var world = World(nodes: 2)
        world.place()
        world.handle(.accepted(attempt: 1, rank: 0))
        world.allocations[world.id(1)]?.delivered = true  // handed to rank 1's agent, not yet taken
        world.handle(.nodeLost(NodeID("n0"), reason: "node n0 stopped sending heartbeats"))
        #expect(world.job.state == .allocated)
        #expect(world.job.currentAttempt?.failedRank == 0)
        // Every rank is asked to stop, rank 0 too: its node may be back before its lease runs out.
        #expect(world.stopped == [world.id(0), world.id(1)])
        // Rank 1's agent takes it now: the gang must not move on to STARTING with a rank on a lost node.
        world.handle(.accepted(attempt: 1, rank: 1))
        #expect(world.job.state == .allocated)
        world.handle(.ended(attempt: 1, Self.terminated, rank: 1))
        #expect(world.job.state == .allocated)
        #expect(world.allocations.keys.sorted() == [world.id(0)])  // may still run on the silent node
        world.handle(.allocationGone(attempt: 1, reason: "its allocation lease on n0 expired", rank: 0))
        #expect(world.job.state == .queued)
        #expect(world.job.infraRetriesUsed == 1)
        #expect(world.allocations.isEmpty)
    }

    /// A node crash makes the other ranks' collectives fail within seconds, long before the node timeout: a rank
    /// still running on the lost node makes the attempt a node fault, retried from that budget.
    @Test func aNodeLostWithItsRankStillRunningIsANodeFaultEvenAfterAnotherRankFailed() {
        var world = World(nodes: 2, maxRetries: 0)
        world.place()
        world.startAll()
        world.handle(.ended(attempt: 1, Self.exit(3), rank: 1))
        world.handle(.nodeLost(NodeID("n0"), reason: "node n0 stopped sending heartbeats"))
        #expect(world.job.state == .lost)
        world.handle(.allocationGone(attempt: 1, reason: "its allocation lease on n0 expired", rank: 0))
        #expect(world.job.state == .queued)
        #expect(world.job.infraRetriesUsed == 1 && world.job.retriesUsed == 0)
        // A node lost after its rank had ended is no fault of that attempt's.
        world.place()
        world.startAll(attempt: 2)
        world.handle(.ended(attempt: 2, Self.exit(3), rank: 1))
        world.handle(.ended(attempt: 2, Self.terminated, rank: 0))
        #expect(world.job.state == .failed)
        world.handle(.nodeLost(NodeID("n0"), reason: "node n0 stopped sending heartbeats"))
        #expect(world.job.state == .failed)
    }

    /// A lost node's rank, taken while the gang was still ALLOCATED, is a node fault even when that node comes
    /// back and the rank reports an exit of its own: it is asked to stop, and the launch goes back to the queue.
    @Test func aRankOnANodeLostWhileAllocatedIsStoppedAndItsGangRequeuedWhenItReturns() {
        var world = World(nodes: 2, maxRetries: 0)
        world.place()
        world.handle(.accepted(attempt: 1, rank: 0))
        world.handle(.started(attempt: 1, pid: 7, rank: 0))
        world.allocations[world.id(1)]?.delivered = true
        world.handle(.nodeLost(NodeID("n0"), reason: "node n0 stopped sending heartbeats"))
        #expect(world.stopped == [world.id(0), world.id(1)])
        world.handle(.ended(attempt: 1, Self.terminated, rank: 1))
        world.handle(.ended(attempt: 1, Self.exit(1), rank: 0))  // n0 came back; rank 0 saw its peer go
        #expect(world.job.state == .queued)
        #expect(world.job.infraRetriesUsed == 1 && world.job.retriesUsed == 0)
        #expect(world.allocations.isEmpty)
    }
}

/// Retries of a job's own failures back off exponentially; node faults are retried at once (issue 18).
@Suite struct RetryBackoffTests {
    @Test func theBackoffDoublesUpToItsCap() {
        let policy = LifecyclePolicy(retryBackoff: .seconds(5), maxRetryBackoff: .seconds(60))
        #expect(
            (1...6).map { policy.backoff(beforeRetry: $0) } == [5, 10, 20, 40, 60, 60].map { Duration.seconds($0) }
        )
        #expect(LifecyclePolicy(retryBackoff: .zero).backoff(beforeRetry: 3) == .zero)
    }

    @Test func aRetriedJobWaitsAndTheSchedulerSaysBackOff() throws {
        var job = Job(id: JobID("j"), spec: JobSpec(command: ["x"], maxRetries: 2), user: "a", submittedAt: .zero)
        let now = Timestamp(milliseconds: 1_000_000)
        let context = LifecycleContext(now: now, policy: LifecyclePolicy(retryBackoff: .seconds(5)))
        for event: LifecycleEvent in [
            .placed(node: NodeID("n"), gpus: []), .accepted(attempt: 1), .started(attempt: 1, pid: 1),
            .ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(code: 1))),
        ] {
            job = JobLifecycle.handle(event, job: job, context: context).job
        }
        #expect(job.state == .queued && job.pendingReason == .backoff)
        #expect(job.notBefore == now + .seconds(5))
        let node = Node(
            id: NodeID("n"),
            hostname: "n",
            gpus: [],
            cpus: 4,
            memory: 1 << 30,
            registeredAt: .zero,
            lastHeartbeat: .zero
        )
        let early = Scheduler.plan(
            ClusterSnapshot(pending: [job], nodes: [node], now: now + .seconds(4)),
            policy: .standard
        )
        #expect(early.pending[job.id] == .backoff && early.assignments.isEmpty)
        let later = Scheduler.plan(
            ClusterSnapshot(pending: [job], nodes: [node], now: now + .seconds(5) + .milliseconds(1)),
            policy: .standard
        )
        #expect(later.assignments.map(\.job) == [job.id])
    }
}

extension GangLifecycleTests {
    /// Issue 15: a gang is preempted whole. Every rank is asked to stop; the job goes back to the queue once the
    /// last rank is gone, with no retry budget spent.
    @Test func aPreemptedGangStopsEveryRankAndGoesBackToTheQueue() {
        var world = World(maxRetries: 1)
        world.place()
        world.startAll()
        world.handle(.preempt(by: JobID("urgent")))
        #expect(world.stopped == [world.id(0), world.id(1), world.id(2)])
        #expect(world.job.state == .running)
        world.handle(.ended(attempt: 1, Self.terminated, rank: 0))
        world.handle(.ended(attempt: 1, Self.terminated, rank: 2))
        #expect(world.job.state == .running, "a rank may still run")
        world.handle(.ended(attempt: 1, Self.terminated, rank: 1))
        #expect(world.job.state == .queued)
        #expect(world.job.preemptions == 1 && world.job.retriesUsed == 0 && world.job.infraRetriesUsed == 0)
        #expect(world.job.attempts[0].preemptedBy == JobID("urgent"))
        #expect(world.allocations.isEmpty)
    }
}
