import ClusterCore
import Testing

@testable import ControllerKit

/// What each stored change of a job counts for /metrics (issue 17), on made-up jobs.
@Suite struct JobMetricsTests {
    static func job(_ state: JobState, started: Bool = true, ended: Bool = false) -> Job {
        var job = Job(id: JobID("metric0001"), spec: JobSpec(command: ["x"]), user: "alice", submittedAt: .zero)
        var attempt = Attempt(
            number: 1,
            node: NodeID("n"),
            gpuIndices: [],
            resources: job.spec.resources,
            allocatedAt: Timestamp(milliseconds: 2000)
        )
        if started { attempt.startedAt = Timestamp(milliseconds: 3000) }
        if ended { attempt.endedAt = Timestamp(milliseconds: 9000) }
        job.attempts = [attempt]
        job.state = state
        return job
    }

    @Test func aStartIsCountedOnceAndALostEndCounts() {
        var metrics = JobMetrics()
        metrics.observe(before: Self.job(.queued, started: false), after: Self.job(.allocated, started: false))
        metrics.observe(before: Self.job(.starting), after: Self.job(.running))
        // Lost, then back within the lease: no second start.
        metrics.observe(before: Self.job(.running), after: Self.job(.lost))
        metrics.observe(before: Self.job(.lost), after: Self.job(.running))
        #expect(metrics.submitToRunning["default"]?.count == 1 && metrics.queueWait["default"]?.count == 1)
        #expect(metrics.queueWait["default"]?.sum == 2)
        // Lost again, and its processes gone with no retry left: an end.
        metrics.observe(before: Self.job(.lost), after: Self.job(.lost, ended: true))
        #expect(metrics.ended[JobMetrics.Ended(state: "LOST", reason: "node_fault")] == 1)
    }

    @Test func endReasons() {
        var timedOut = Self.job(.failed, ended: true)
        timedOut.attempts[0].exit = JobExit(code: nil, signal: 9, message: nil, timedOut: true)
        #expect(JobMetrics.endReason(timedOut) == "timeout")
        var exitCode = Self.job(.failed, ended: true)
        exitCode.attempts[0].exit = JobExit(code: 3)
        #expect(JobMetrics.endReason(exitCode) == "exit_code")
        var idle = Self.job(.canceled, ended: true)
        idle.message = "canceled by corral: its GPUs stayed idle"
        #expect(JobMetrics.endReason(idle) == "idle_gpus")
        var dependency = Self.job(.failed)
        dependency.attempts = []
        #expect(JobMetrics.endReason(dependency) == "dependency")
        #expect(JobMetrics.endReason(Self.job(.succeeded, ended: true)) == "completed")
    }

    @Test func recentWaitsStayBounded() {
        var metrics = JobMetrics()
        for hour in 0..<50 {
            var after = Self.job(.allocated, started: false)
            after.attempts[0].allocatedAt = Timestamp(milliseconds: Int64(hour) * 3_600_000)
            metrics.observe(before: Self.job(.queued, started: false), after: after)
        }
        #expect(metrics.recentWaits.count <= 3)
    }
}
