import ClusterCore
import Testing

/// EASY backfill: the first job that cannot start reserves the earliest slot; later jobs start now only
/// if they leave that slot intact.
@Suite struct BackfillTests {
    typealias F = Fixtures
    static let now = SchedulerPolicyTests.now
    static let hour = 3_600

    static func running(
        _ node: String,
        _ gpus: [Int],
        cpus: Int = 0,
        endsIn seconds: Int?,
        allocatedAgo: Int = 0
    )
        -> HeldResources
    {
        HeldResources(
            node: NodeID(node),
            gpuIndices: gpus,
            resources: Resources(gpus: gpus.count, cpus: cpus),
            user: "carol",
            allocatedAt: now + .seconds(-allocatedAgo),
            expectedEnd: seconds.map { now + .seconds($0) }
        )
    }

    @Test func shortJobsBackfillAndLongOnesWait() throws {
        let held = [Self.running("n", [0, 1, 2, 3, 4], endsIn: Self.hour)]
        let jobs = [
            F.job("big", gpus: 8, priority: 5, timeLimit: 4 * Self.hour),
            F.job("short", gpus: 1, submittedAt: 1, timeLimit: Self.hour / 2),
            F.job("exact", gpus: 1, submittedAt: 2, timeLimit: Self.hour),
            F.job("long", gpus: 1, submittedAt: 3, timeLimit: 2 * Self.hour),
            F.job("unlimited", gpus: 1, submittedAt: 4),
        ]
        let schedule = SchedulerPolicyTests.plan(jobs, [F.node("n")], held: held)
        let reservation = try #require(schedule.reservation)
        #expect(
            reservation == Schedule.Reservation(job: JobID("big"), node: NodeID("n"), start: Self.now + .seconds(3600))
        )
        #expect(schedule.reason("big") == .resources)
        #expect(schedule.assignment("short") != nil)
        #expect(schedule.assignment("exact") != nil)
        #expect(schedule.reason("long") == .priority)
        // No time limit: the policy's default (a day) is assumed, which ends after the reservation.
        #expect(schedule.reason("unlimited") == .priority)
    }

    @Test func longJobsStillRunOnOtherNodes() {
        let held = [Self.running("n", [0, 1, 2, 3, 4, 5], endsIn: Self.hour)]
        let jobs = [
            F.job("big", gpus: 8, priority: 5), F.job("long", gpus: 1, submittedAt: 1, timeLimit: 9 * Self.hour),
        ]
        let held2 = held + [Self.running("m", [0, 1, 2, 3, 4, 5, 6, 7], endsIn: 9 * Self.hour)]
        // m is full until after n frees, so big reserves n; long runs on o instead of waiting.
        let schedule = SchedulerPolicyTests.plan(jobs, [F.node("n"), F.node("m"), F.node("o", gpus: 2)], held: held2)
        #expect(schedule.reservation?.node == NodeID("n"))
        #expect(schedule.assignment("long")?.node == NodeID("o"))
    }

    @Test func jobsThatLeaveTheReservedResourcesAloneMayRunLong() {
        // big needs 8 GPUs and 8 CPUs on n at the reservation; n has 64 CPUs, so a long CPU-only job of 16
        // CPUs and a long job on a GPU of another type leave it whole.
        var mixed = F.node("n", gpus: 0, cpus: 64)
        mixed.gpus = (0..<9).map { GPU(index: $0, uuid: "u\($0)", name: $0 == 8 ? F.rtx : F.h100) }
        let held = [Self.running("n", [0, 1, 2, 3], cpus: 8, endsIn: Self.hour)]
        let jobs = [
            F.job("big", gpus: 8, cpus: 8, gpuType: "H100", priority: 5),
            F.job("cpu-long", cpus: 16, submittedAt: 1, timeLimit: 9 * Self.hour),
            F.job("rtx-long", gpus: 1, gpuType: "4090", submittedAt: 2, timeLimit: 9 * Self.hour),
            F.job("greedy-cpu", cpus: 38, submittedAt: 3, timeLimit: 9 * Self.hour),
            F.job("h100-long", gpus: 1, gpuType: "H100", submittedAt: 4, timeLimit: 9 * Self.hour),
        ]
        let schedule = SchedulerPolicyTests.plan(jobs, [mixed], held: held)
        #expect(schedule.reservation?.job == JobID("big"))
        #expect(schedule.assignment("cpu-long") != nil)
        #expect(schedule.assignment("rtx-long")?.gpuIndices == [8])
        // 64 - 16 - 1 - 38 = 9 CPUs would be left at the start: enough for big's 8, so it may run.
        #expect(schedule.assignment("greedy-cpu") != nil)
        #expect(schedule.reason("h100-long") == .priority)
    }

    @Test func allocationsWithoutAnEndUseTheirQueuesDefault() {
        let policy = SchedulingPolicy(
            queues: [QueueConfig(name: "default", defaultTimeLimit: Self.hour)],
            defaultTimeLimit: 10 * Self.hour
        )
        let held = [Self.running("n", [0, 1, 2, 3, 4, 5, 6, 7], endsIn: nil, allocatedAgo: 600)]
        let schedule = SchedulerPolicyTests.plan([F.job("big", gpus: 8)], [F.node("n")], held: held, policy: policy)
        #expect(schedule.reservation?.start == Self.now + .seconds(3000))
        // Overdue allocations are taken to end now, never in the past.
        let overdue = [Self.running("n", [0, 1, 2, 3, 4, 5, 6, 7], endsIn: -50)]
        let late = SchedulerPolicyTests.plan([F.job("big", gpus: 8)], [F.node("n")], held: overdue, policy: policy)
        #expect(late.reservation?.start == Self.now)
    }

    @Test func theReservationGoesToTheNodeThatFreesFirst() {
        let held = [
            Self.running("a", [0, 1, 2, 3, 4, 5, 6, 7], endsIn: 3 * Self.hour),
            Self.running("b", [0, 1, 2, 3], endsIn: Self.hour),
            Self.running("b", [4, 5, 6, 7], endsIn: 2 * Self.hour),
        ]
        let schedule = SchedulerPolicyTests.plan([F.job("big", gpus: 8)], [F.node("a"), F.node("b")], held: held)
        #expect(
            schedule.reservation
                == Schedule.Reservation(job: JobID("big"), node: NodeID("b"), start: Self.now + .seconds(7200))
        )
    }

    @Test func onlyTheFirstBlockedJobReserves() {
        let held = [Self.running("n", [0, 1, 2, 3, 4, 5, 6, 7], endsIn: Self.hour)]
        let jobs = [F.job("first", gpus: 8, priority: 2), F.job("second", gpus: 4, priority: 1)]
        let schedule = SchedulerPolicyTests.plan(jobs, [F.node("n")], held: held)
        #expect(schedule.reservation?.job == JobID("first"))
        #expect(schedule.reason("second") == .resources)
    }

    /// With `reservationDepth` 3, protected jobs that cannot start each hold a reservation, on nodes the others
    /// do not hold; a job that would delay any of them waits, one that ends before them runs. With depth 1 only
    /// the first holds one.
    @Test func protectedJobsHoldOneReservationEachUpToTheDepth() throws {
        let held = [
            Self.running("m", [0, 1, 2, 3, 4, 5], endsIn: 2 * Self.hour),
            Self.running("n", [0, 1, 2, 3, 4, 5], endsIn: Self.hour),
        ]
        // Both 8-GPU jobs are protected: "big" is the oldest of 2 GPUs or more, "stretched" has waited more than
        // twice its limit. "stretched" comes first (shorter limit) and takes n, which frees first.
        let jobs = [
            F.job("big", gpus: 8, timeLimit: 4 * Self.hour),
            F.job("stretched", gpus: 8, timeLimit: 60),
            F.job("long", gpus: 1, submittedAt: 900_000, timeLimit: 3 * Self.hour),
            F.job("quick", gpus: 1, submittedAt: 900_000, timeLimit: Self.hour / 2),
        ]
        var policy = SchedulingPolicy.standard
        policy.ordering = .shortestFirst
        policy.reservationDepth = 3
        let deep = SchedulerPolicyTests.plan(jobs, [F.node("m"), F.node("n")], held: held, policy: policy)
        #expect(
            deep.reservations == [
                Schedule.Reservation(job: JobID("stretched"), node: NodeID("n"), start: Self.now + .seconds(Self.hour)),
                Schedule.Reservation(job: JobID("big"), node: NodeID("m"), start: Self.now + .seconds(2 * Self.hour)),
            ]
        )
        #expect(deep.reason("long") == .priority)
        #expect(deep.assignment("quick") != nil)
        policy.reservationDepth = 1
        let easy = SchedulerPolicyTests.plan(jobs, [F.node("m"), F.node("n")], held: held, policy: policy)
        #expect(easy.reservations.map(\.job) == [JobID("stretched")])
        #expect(easy.assignment("long")?.node == NodeID("m"))
        #expect(easy.assignment("quick") != nil)
    }
}
