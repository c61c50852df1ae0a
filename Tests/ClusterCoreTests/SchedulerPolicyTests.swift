import ClusterCore
import ClusterCoreTesting
import Testing

/// Order, best fit, queues (priority, selector, limits) and dependencies under `Scheduler.plan`.
@Suite struct SchedulerPolicyTests {
    typealias F = Fixtures
    static let now = Timestamp(milliseconds: 1_000_000)

    static func plan(
        _ pending: [Job],
        _ nodes: [Node],
        held: [HeldResources] = [],
        states: [JobID: JobState] = [:],
        usage: FairShareUsage = FairShareUsage(),
        policy: SchedulingPolicy = .standard
    ) -> Schedule {
        Scheduler.plan(
            ClusterSnapshot(pending: pending, nodes: nodes, held: held, jobStates: states, usage: usage, now: now),
            policy: policy
        )
    }

    @Test func bestFitLeavesTheFewestFreeGPUs() {
        let held = [
            HeldResources(node: NodeID("a"), gpuIndices: [0, 1, 2, 3, 4, 5], resources: Resources(gpus: 6)),
            HeldResources(node: NodeID("b"), gpuIndices: [0, 1, 2, 3, 4], resources: Resources(gpus: 5)),
        ]
        let nodes = [F.node("a"), F.node("b"), F.node("c")]
        // Two free on a, three on b, eight on c.
        #expect(Self.plan([F.job("j", gpus: 2)], nodes, held: held).assignment("j")?.node == NodeID("a"))
        #expect(Self.plan([F.job("j", gpus: 3)], nodes, held: held).assignment("j")?.node == NodeID("b"))
        #expect(Self.plan([F.job("j", gpus: 1)], nodes, held: held).assignment("j")?.node == NodeID("a"))
        #expect(Self.plan([F.job("j", gpus: 4)], nodes, held: held).assignment("j")?.node == NodeID("c"))
    }

    @Test func bestFitBreaksGPUTiesByFreeCPUsThenNodeID() {
        let nodes = [F.node("a", cpus: 64), F.node("b", cpus: 16), F.node("c", cpus: 16)]
        #expect(Self.plan([F.job("j", gpus: 1, cpus: 4)], nodes).assignment("j")?.node == NodeID("b"))
        #expect(Self.plan([F.job("j", gpus: 1, cpus: 32)], nodes).assignment("j")?.node == NodeID("a"))
    }

    @Test func bestFitKeepsWholeNodesForBigJobs() {
        // First fit would split both nodes; best fit packs the small jobs so the 8-GPU job still fits.
        let jobs = [
            F.job("s1", gpus: 4, submittedAt: 1), F.job("s2", gpus: 4, submittedAt: 2),
            F.job("big", gpus: 8, submittedAt: 3),
        ]
        let schedule = Self.plan(jobs, [F.node("a"), F.node("b")])
        #expect(schedule.assignment("s1")?.node == schedule.assignment("s2")?.node)
        #expect(schedule.assignment("big") != nil)
    }

    @Test func queuePriorityComesBeforeJobPriority() {
        let policy = SchedulingPolicy(queues: [QueueConfig(name: "urgent", priority: 5)])
        let jobs = [F.job("normal", gpus: 8, priority: 100), F.job("urgent", gpus: 8, submittedAt: 9, queue: "urgent")]
        let schedule = Self.plan(jobs, [F.node("n")], policy: policy)
        #expect(schedule.assignment("urgent") != nil)
        #expect(schedule.reason("normal") == .resources)
    }

    @Test func fairShareOrdersUsersWithLessRecentUseFirst() {
        var usage = FairShareUsage()
        usage.record(user: "heavy", gpuSeconds: 100_000, at: Self.now)
        usage.record(user: "light", gpuSeconds: 10, at: Self.now)
        let jobs = [
            F.job("heavy-early", gpus: 8, submittedAt: 1, user: "heavy"),
            F.job("light-late", gpus: 8, submittedAt: 5, user: "light"),
            F.job("new-latest", gpus: 8, submittedAt: 9, user: "newcomer"),
        ]
        let order = Scheduler.ordered(jobs, policy: .standard, usage: usage, now: Self.now).map(\.id.rawValue)
        #expect(order == ["new-latest", "light-late", "heavy-early"])
        // Job priority still comes before fair share.
        var urgent = jobs[0]
        urgent.spec.priority = 1
        #expect(
            Scheduler.ordered([jobs[1], urgent], policy: .standard, usage: usage, now: Self.now).first?.id == urgent.id
        )
        #expect(Self.plan(jobs, [F.node("n")], usage: usage).assignment("new-latest") != nil)
    }

    @Test func queueNodeSelectorRestrictsNodes() {
        let policy = SchedulingPolicy(queues: [QueueConfig(name: "ib", nodeSelector: ["fabric": "ib"])])
        let nodes = [F.node("a"), F.node("b", labels: ["fabric": "ib"])]
        let schedule = Self.plan(
            [F.job("j", gpus: 1, queue: "ib"), F.job("k", gpus: 1, labels: ["fabric": "eth"], queue: "ib")],
            nodes,
            policy: policy
        )
        #expect(schedule.assignment("j")?.node == NodeID("b"))
        #expect(schedule.reason("k") == .noFeasibleNode)
    }

    @Test func unknownQueueGetsStandardSettings() {
        let schedule = Self.plan([F.job("j", gpus: 1, queue: "gone")], [F.node("a")])
        #expect(schedule.assignment("j") != nil)
    }

    @Test func perUserQueueLimitCountsHeldAndPlannedGPUs() {
        let policy = SchedulingPolicy(queues: [QueueConfig(name: "gpu", maxRunningGPUsPerUser: 4)])
        let held = [
            HeldResources(
                node: NodeID("a"),
                gpuIndices: [0],
                resources: Resources(gpus: 1),
                user: "alice",
                queue: "gpu"
            )
        ]
        let jobs = [
            F.job("a1", gpus: 2, submittedAt: 1, queue: "gpu"),
            F.job("a2", gpus: 2, submittedAt: 2, queue: "gpu"),
            F.job("a3", gpus: 1, submittedAt: 3, queue: "gpu"),
            F.job("a-default", gpus: 4, submittedAt: 4),
            F.job("b1", gpus: 4, submittedAt: 5, user: "bob", queue: "gpu"),
            F.job("a-cpu", gpus: 0, submittedAt: 6, queue: "gpu"),
        ]
        let schedule = Self.plan(jobs, [F.node("a"), F.node("b")], held: held, policy: policy)
        #expect(schedule.assignment("a1") != nil)
        #expect(schedule.reason("a2") == .queueLimit)
        #expect(schedule.assignment("a3") != nil)
        #expect(schedule.assignment("a-default") != nil)
        #expect(schedule.assignment("b1") != nil)
        #expect(schedule.assignment("a-cpu") != nil)
    }

    @Test func failedDependenciesAreReported() {
        let states: [JobID: JobState] = [
            JobID("ok"): .succeeded, JobID("bad"): .failed, JobID("gone"): .canceled, JobID("lost"): .lost,
            JobID("run"): .running,
        ]
        let jobs = [
            F.job("after-bad", dependsOn: ["ok", "bad"]), F.job("after-gone", dependsOn: ["gone"]),
            F.job("after-lost", dependsOn: ["run", "lost"]), F.job("after-run", dependsOn: ["run"]),
            F.job("after-ok", dependsOn: ["ok"]),
        ]
        let schedule = Self.plan(jobs, [F.node("n")], states: states)
        #expect(
            schedule.failedDependencies == [
                JobID("after-bad"): JobID("bad"), JobID("after-gone"): JobID("gone"),
                JobID("after-lost"): JobID("lost"),
            ]
        )
        for waiting in ["after-bad", "after-gone", "after-lost", "after-run"] {
            #expect(schedule.reason(waiting) == .dependency)
        }
        #expect(schedule.assignment("after-ok") != nil)
    }

    @Test func everyPendingJobHasExactlyOneReason() {
        let jobs = (0..<20).map { F.job("j\($0)", gpus: $0 % 9, submittedAt: Int64($0)) }
        let schedule = Self.plan(jobs, [F.node("n")])
        #expect(schedule.assignments.count + schedule.pending.count == jobs.count)
    }

    @Test func theOldEntryPointDelegatesToPlan() {
        let jobs = [F.job("a", gpus: 3), F.job("b", gpus: 6, submittedAt: 1), F.job("c", dependsOn: ["x"])]
        let nodes = [F.node("n1"), F.node("n2", gpus: 4)]
        let old = Scheduler.computeSchedule(
            pending: jobs,
            nodes: nodes,
            held: [],
            jobState: { $0 == JobID("x") ? .failed : nil },
            now: Self.now
        )
        #expect(old == Self.plan(jobs, nodes, states: [JobID("x"): .failed]))
        #expect(old.failedDependencies[JobID("c")] == JobID("x"))
        // Best fit: the 3-GPU job takes the 4-GPU node, leaving n1 whole for the 6-GPU job.
        #expect(old.assignment("a")?.node == NodeID("n2"))
        #expect(old.assignment("b")?.node == NodeID("n1"))
    }

    @Test func scaleTenThousandJobsOnAThousandNodes() {
        let snapshot = SchedulerBenchmark.makeSnapshot(pendingJobs: 10_000, nodes: 1_000, gpusPerNode: 8, seed: 7)
        let schedule = Scheduler.plan(snapshot, policy: SchedulerBenchmark.policy)
        #expect(schedule.assignments.count + schedule.pending.count == 10_000)
        #expect(schedule.assignments.count > 1_000)
        var used: [NodeID: Set<Int>] = [:]
        for held in snapshot.held { used[held.node, default: []].formUnion(held.gpuIndices) }
        for a in schedule.assignments {
            for index in a.gpuIndices { #expect(used[a.node, default: []].insert(index).inserted) }
        }
    }

    /// The same cluster with 100 gangs among the jobs: every job placed once or given a reason, gangs whole on
    /// distinct nodes, no GPU given twice.
    @Test func scaleWithAHundredGangs() {
        let snapshot = SchedulerBenchmark.makeSnapshot(
            pendingJobs: 10_000,
            nodes: 1_000,
            gpusPerNode: 8,
            gangs: 100,
            seed: 7
        )
        let schedule = Scheduler.plan(snapshot, policy: SchedulerBenchmark.policy)
        #expect(schedule.assignments.count + schedule.gangAssignments.count + schedule.pending.count == 10_000)
        #expect(!schedule.gangAssignments.isEmpty)
        var used: [NodeID: Set<Int>] = [:]
        for held in snapshot.held { used[held.node, default: []].formUnion(held.gpuIndices) }
        let placements =
            schedule.assignments.map { Placement(node: $0.node, gpuIndices: $0.gpuIndices) }
            + schedule.gangAssignments.flatMap(\.ranks)
        for placement in placements {
            for index in placement.gpuIndices { #expect(used[placement.node, default: []].insert(index).inserted) }
        }
        for gang in schedule.gangAssignments { #expect(Set(gang.ranks.map(\.node)).count == gang.ranks.count) }
    }
}
