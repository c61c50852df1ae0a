import ClusterCore
import Testing

/// The utilization history kept from heartbeats and the idle-GPU rule (issue 17), on made-up figures.
@Suite struct IdleGPUsTests {
    static let t0 = Timestamp(milliseconds: 1_000_000_000)
    static let policy = IdleGPUPolicy(threshold: 5, window: .seconds(600))

    static func history(_ percents: (Int) -> [Int: Int], minutes: Int) -> UtilizationHistory {
        var history = UtilizationHistory(bucket: .seconds(30), span: .seconds(3600))
        for second in stride(from: 0, to: minutes * 60, by: 5) {
            history.record(at: t0 + .seconds(second), percents(second))
        }
        return history
    }

    static func running(gpus: [Int], startedAt: Timestamp = t0) -> Job {
        var job = Job(
            id: JobID("idle000001"),
            spec: JobSpec(command: ["train"], resources: Resources(gpus: gpus.count, cpus: 1, memory: 0)),
            user: "alice",
            submittedAt: startedAt
        )
        var attempt = Attempt(
            number: 1,
            node: NodeID("n1"),
            gpuIndices: gpus,
            resources: job.spec.resources,
            allocatedAt: startedAt
        )
        attempt.startedAt = startedAt
        job.attempts = [attempt]
        job.state = .running
        return job
    }

    @Test func theHistoryAveragesPerBucketAndForgetsWhatIsOlderThanItsSpan() {
        let history = Self.history({ second in [0: second < 1800 ? 10 : 50, 1: 100] }, minutes: 90)
        // 90 minutes of heartbeats, an hour kept: 120 buckets of 30 s (plus the current one).
        #expect(history.buckets.count <= 121 && history.buckets.count >= 120)
        #expect(history.buckets.first!.start >= Self.t0 + .seconds(1800 - 30))
        #expect(history.buckets.last?.mean(gpu: 0) == 50 && history.buckets.last?.mean(gpu: 1) == 100)
        #expect(history.gpus == [0, 1])
        let mean = history.mean(gpus: [0, 1], since: Self.t0 + .seconds(3600))
        #expect(mean?.percent == 75)
        #expect(mean.map { $0.covered >= .seconds(1770) } == true)
        // Out-of-range figures are clamped, never stored as given.
        var clamped = UtilizationHistory()
        clamped.record(at: Self.t0, [0: 250, 1: -4])
        #expect(clamped.buckets[0].mean(gpu: 0) == 100 && clamped.buckets[0].mean(gpu: 1) == 0)
    }

    @Test func aJobWhoseGPUsStayUnderTheThresholdForTheWindowIsIdle() {
        let histories = [NodeID("n1"): Self.history({ _ in [0: 2, 1: 3, 2: 90] }, minutes: 20)]
        let now = Self.t0 + .seconds(20 * 60)
        let idle = IdleGPUs.idleMean(Self.running(gpus: [0, 1]), histories: histories, policy: Self.policy, now: now)
        #expect(idle == 2.5)
        // Its neighbour's busy GPU is not its own.
        #expect(
            IdleGPUs.idleMean(Self.running(gpus: [1, 2]), histories: histories, policy: Self.policy, now: now) == nil
        )
    }

    @Test func notIdleWhenItCannotBeTold() {
        let quiet = [NodeID("n1"): Self.history({ _ in [0: 0] }, minutes: 20)]
        let now = Self.t0 + .seconds(20 * 60)
        // Running for less than the window.
        let young = Self.running(gpus: [0], startedAt: Self.t0 + .seconds(15 * 60))
        #expect(IdleGPUs.idleMean(young, histories: quiet, policy: Self.policy, now: now) == nil)
        // No figures for the last three quarters of the window (the node stopped reporting utilization).
        let stale = [NodeID("n1"): Self.history({ _ in [0: 0] }, minutes: 12)]
        #expect(IdleGPUs.idleMean(Self.running(gpus: [0]), histories: stale, policy: Self.policy, now: now) == nil)
        // No history at all, no GPUs, not running.
        #expect(IdleGPUs.idleMean(Self.running(gpus: [0]), histories: [:], policy: Self.policy, now: now) == nil)
        #expect(IdleGPUs.idleMean(Self.running(gpus: []), histories: quiet, policy: Self.policy, now: now) == nil)
        var queued = Self.running(gpus: [0])
        queued.state = .queued
        #expect(IdleGPUs.idleMean(queued, histories: quiet, policy: Self.policy, now: now) == nil)
    }

    @Test func aGangIsIdleOnlyWhenAllItsRanksAre() {
        var job = Self.running(gpus: [0])
        job.attempts[0] = Attempt(
            number: 1,
            ranks: [Placement(node: NodeID("n1"), gpuIndices: [0]), Placement(node: NodeID("n2"), gpuIndices: [0])],
            resources: job.spec.resources,
            allocatedAt: Self.t0,
            port: 29500
        )
        job.attempts[0].startedAt = Self.t0
        let now = Self.t0 + .seconds(20 * 60)
        let idleBoth = [
            NodeID("n1"): Self.history({ _ in [0: 1] }, minutes: 20),
            NodeID("n2"): Self.history({ _ in [0: 3] }, minutes: 20),
        ]
        #expect(IdleGPUs.idleMean(job, histories: idleBoth, policy: Self.policy, now: now) == 2)
        let oneBusy = [
            NodeID("n1"): Self.history({ _ in [0: 1] }, minutes: 20),
            NodeID("n2"): Self.history({ _ in [0: 60] }, minutes: 20),
        ]
        #expect(IdleGPUs.idleMean(job, histories: oneBusy, policy: Self.policy, now: now) == nil)
    }

    @Test func theFlagIsRecordedInTheJobsEventLog() {
        let outcome = JobLifecycle.handle(
            .idleGPUs(meanPercent: 0.04, window: .seconds(1800), cancelAt: Self.t0 + .seconds(600)),
            job: Self.running(gpus: [0]),
            context: LifecycleContext(now: Self.t0)
        )
        #expect(
            outcome.records.map(\.reason) == [
                "GPUs idle: 0.0% on average over the last 30 min; it will be canceled in 600 s unless they get busy (its queue's idle_cancel_after)"
            ]
        )
        #expect(outcome.job.state == .running && outcome.storage == .durable)
    }
}
