import ClusterCore
import Testing

/// Accounting's sums from attempts with known times: per user, queue and node, a gang on every rank's node,
/// a running job to now, waits from submission to first start, failures, and a window that cuts runs.
@Suite struct UsageSummaryTests {
    static let hour: Int64 = 3_600_000

    static func job(
        _ id: String,
        user: String,
        queue: String = "default",
        gpus: Int,
        cpus: Int = 2,
        submitted: Int64,
        runs: [(node: String, start: Int64, end: Int64?)],
        state: JobState
    ) -> Job {
        var spec = JobSpec(name: id, command: ["x"], resources: Resources(gpus: gpus, cpus: cpus, memory: 0))
        spec.queue = queue
        var job = Job(id: JobID(id), spec: spec, user: user, submittedAt: Timestamp(milliseconds: submitted))
        job.state = state
        job.attempts = runs.enumerated().map { number, run in
            var attempt = Attempt(
                number: number + 1,
                node: NodeID(run.node),
                gpuIndices: Array(0..<gpus),
                resources: Resources(gpus: gpus, cpus: cpus, memory: 0),
                allocatedAt: Timestamp(milliseconds: run.start)
            )
            attempt.startedAt = Timestamp(milliseconds: run.start)
            attempt.endedAt = run.end.map { Timestamp(milliseconds: $0) }
            return attempt
        }
        return job
    }

    @Test func sumsPerUserQueueAndNode() {
        let h = Self.hour
        var gang = Self.job("g", user: "bob", queue: "big", gpus: 8, cpus: 4, submitted: 0, runs: [], state: .succeeded)
        var attempt = Attempt(
            number: 1,
            ranks: [
                Placement(node: NodeID("a"), gpuIndices: Array(0..<8)),
                Placement(node: NodeID("b"), gpuIndices: Array(0..<8)),
            ],
            resources: Resources(gpus: 8, cpus: 4, memory: 0),
            allocatedAt: Timestamp(milliseconds: h),
            port: nil
        )
        for rank in attempt.ranks.indices {
            attempt.ranks[rank].startedAt = Timestamp(milliseconds: h)
            attempt.ranks[rank].endedAt = Timestamp(milliseconds: 3 * h)
        }
        gang.attempts = [attempt]
        let jobs = [
            // alice: 2 GPUs for 1 h after waiting 30 min, then a LOST attempt of 1 h and a retry of 1 h elsewhere.
            Self.job("a1", user: "alice", gpus: 2, submitted: 0, runs: [("a", h / 2, 3 * h / 2)], state: .succeeded),
            Self.job(
                "a2",
                user: "alice",
                gpus: 1,
                submitted: h,
                runs: [("a", h, 2 * h), ("b", 2 * h, 3 * h)],
                state: .failed
            ),
            // Still running at 4 h: counted to now.
            Self.job("a3", user: "alice", gpus: 1, submitted: 3 * h, runs: [("b", 3 * h, nil)], state: .running),
            // Never started; and one before the window.
            Self.job("a4", user: "alice", gpus: 4, submitted: 3 * h, runs: [], state: .queued),
            Self.job("old", user: "alice", gpus: 8, submitted: -h, runs: [("a", 0, h)], state: .succeeded),
            gang,
        ]
        let now = Timestamp(milliseconds: 4 * h)
        // From 0: every job that was submitted or ran since (the old job ran 0-1 h).
        let byUser = UsageSummary.rows(jobs, since: .zero, by: .user, now: now)
        #expect(byUser.map(\.key) == ["bob", "alice"])
        let alice = byUser[1]
        #expect(alice.jobs == 5 && alice.failures == 1 && alice.started == 4)
        #expect(alice.gpuSeconds == Double(2 * 3600 + 1 * 3600 + 1 * 3600 + 1 * 3600 + 8 * 3600))
        #expect(alice.cpuSeconds == Double(2 * 5 * 3600))
        // Waits: a1 30 min, a2 and a3 none, old 1 h (submitted at -1 h, first started at 0).
        #expect(alice.meanWaitSeconds == Double(1800 + 3600) / 4)
        #expect(byUser[0].gpuSeconds == Double(2 * 8 * 2 * 3600) && byUser[0].meanWaitSeconds == 3600)
        let byNode = Dictionary(
            uniqueKeysWithValues: UsageSummary.rows(jobs, since: .zero, by: .node, now: now).map { ($0.key, $0) }
        )
        #expect(byNode["a"]?.jobs == 4 && byNode["b"]?.jobs == 3)
        #expect(
            byNode["a"]?.gpuSeconds == Double((2 + 1 + 8 + 16) * 3600)
                && byNode["b"]?.gpuSeconds == Double((1 + 1 + 16) * 3600)
        )
        // The failure is counted where its last attempt ran.
        #expect(byNode["a"]?.failures == 0 && byNode["b"]?.failures == 1)
        let byQueue = UsageSummary.rows(jobs, since: .zero, by: .queue, now: now)
        #expect(byQueue.map(\.key) == ["big", "default"] && byQueue.map(\.jobs) == [1, 5])
        // A window from 2.5 h cuts the runs it overlaps: a2's second half hour, the gang's last half hour.
        let cut = UsageSummary.rows(jobs, since: Timestamp(milliseconds: 5 * h / 2), by: .user, now: now)
        #expect(cut.map(\.key) == ["bob", "alice"] && cut[0].gpuSeconds == Double(2 * 8 * 1800))
        #expect(
            cut[1].jobs == 3 && cut[1].gpuSeconds == Double(1800 + 3600) && cut[1].failures == 1 && cut[1].started == 1
        )
        // From 3 h: a2 and the gang ended exactly then; only a3 and a4 are left.
        let late = UsageSummary.rows(jobs, since: Timestamp(milliseconds: 3 * h), by: .user, now: now)
        #expect(late.map(\.key) == ["alice"] && late[0].jobs == 2 && late[0].gpuSeconds == 3600)
        #expect(UsageSummary.rows([Job](), since: .zero, by: .user, now: now).isEmpty)
    }
}
