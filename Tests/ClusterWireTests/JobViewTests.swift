import ClusterCore
import ClusterWire
import Foundation
import Testing

@Suite struct JobViewTests {
    static let submitted = Timestamp(milliseconds: 1_709_210_096_789)  // 2024-02-29T12:34:56.789Z

    static func spec() -> JobSpec {
        JobSpec(
            name: "train",
            command: ["python", "train.py"],
            cwd: "/work",
            env: ["SEED": "1"],
            queue: "gpu",
            resources: Resources(gpus: 2, cpus: 8, memory: 32 << 30),
            gpuType: "H100",
            timeLimit: 3600,
            maxRetries: 1,
            priority: 7,
            labels: ["zone": "eu"],
            dependsOn: [JobID("dep1")]
        )
    }

    static func finishedJob() -> Job {
        var job = Job(id: JobID("k3xq9mz2ab"), spec: spec(), user: "alice", submittedAt: submitted)
        var first = Attempt(
            number: 1,
            node: NodeID("gpu-1"),
            gpuIndices: [0, 1],
            resources: spec().resources,
            allocatedAt: submitted + .seconds(1)
        )
        first.startedAt = submitted + .seconds(2)
        first.endedAt = submitted + .seconds(60)
        first.pid = 4242
        first.exit = JobExit(code: 137)
        first.finalState = .failed
        var second = Attempt(
            number: 2,
            node: NodeID("gpu-2"),
            gpuIndices: [4, 5],
            resources: spec().resources,
            allocatedAt: submitted + .seconds(61)
        )
        second.startedAt = submitted + .seconds(62)
        second.endedAt = submitted + .seconds(120)
        second.pid = 777
        second.exit = JobExit(signal: 9, message: "oom")
        second.finalState = .failed
        job.attempts = [first, second]
        job.state = .failed
        job.pendingReason = .resources  // stale: only shown while QUEUED
        job.retriesUsed = 1
        job.updatedAt = submitted + .seconds(121)
        job.message = "killed by SIGKILL"
        return job
    }

    @Test func queuedJob() {
        var job = Job(id: JobID("abc"), spec: Self.spec(), user: "bob", submittedAt: Self.submitted)
        job.pendingReason = .dependency
        let view = JobView(job)
        #expect(view.id == "abc")
        #expect(view.user == "bob")
        #expect(view.state == "QUEUED")
        #expect(view.reason == "Dependency")
        #expect(view.node == nil)
        #expect(view.gpuIndices == [])
        #expect(view.exitCode == nil && view.signal == nil)
        #expect(view.attempt == 0)
        #expect(view.submittedAt == "2024-02-29T12:34:56.789Z")
        #expect(view.startedAt == nil && view.endedAt == nil)
        #expect(view.attempts.isEmpty)
        #expect(view.command == ["python", "train.py"])
        #expect(view.gpus == 2 && view.cpus == 8 && view.memory == 32 << 30)
        #expect(view.gpuType == "H100" && view.timeLimit == 3600 && view.maxRetries == 1 && view.priority == 7)
        #expect(view.labels == ["zone": "eu"] && view.dependsOn == ["dep1"] && view.env == ["SEED": "1"])
    }

    @Test func finishedJobWithAttempts() throws {
        let view = JobView(Self.finishedJob())
        #expect(view.state == "FAILED")
        #expect(view.reason == nil)
        #expect(view.node == "gpu-2")
        #expect(view.gpuIndices == [4, 5])
        #expect(view.attempt == 2)
        #expect(view.exitCode == nil)
        #expect(view.signal == "SIGKILL")
        #expect(view.startedAt == "2024-02-29T12:35:58.789Z")
        #expect(view.endedAt == "2024-02-29T12:36:56.789Z")
        #expect(view.message == "killed by SIGKILL")
        #expect(view.attempts.count == 2)
        let first = try #require(view.attempts.first)
        #expect(first.attempt == 1 && first.node == "gpu-1" && first.gpuIndices == [0, 1])
        #expect(first.exitCode == 137 && first.signal == nil && first.pid == 4242 && first.state == "FAILED")
        #expect(first.allocatedAt == "2024-02-29T12:34:57.789Z")
        #expect(first.message?.contains("out of memory") == true)
        let second = view.attempts[1]
        #expect(second.signal == "SIGKILL" && second.exitCode == nil)
        #expect(second.message == "killed by SIGKILL (possibly out of memory): oom")
    }

    @Test func finishedWithoutEndTimeUsesUpdatedAt() {
        var job = Job(id: JobID("abc"), spec: Self.spec(), user: "bob", submittedAt: Self.submitted)
        job.state = .canceled
        job.updatedAt = Timestamp(milliseconds: 0)
        let view = JobView(job)
        #expect(view.endedAt == "1970-01-01T00:00:00.000Z")
        #expect(view.reason == nil)
    }

    /// `stopping` says why a job's processes are being stopped, only while they may still run.
    @Test func stoppingOnlyWhileTheAttemptIsLive() {
        var job = Job(id: JobID("abc"), spec: Self.spec(), user: "bob", submittedAt: Self.submitted)
        job.stopRequest = StopRequest(.cancel(by: "bob"), at: Self.submitted)
        #expect(JobView(job).stopping == nil, "no attempt: nothing to stop")
        job.state = .running
        job.attempts = [
            Attempt(number: 1, node: NodeID("gpu-1"), gpuIndices: [0], resources: .zero, allocatedAt: Self.submitted)
        ]
        #expect(JobView(job).stopping == "canceled by bob")
        job.stopRequest = StopRequest(.timeLimit, at: Self.submitted)
        #expect(JobView(job).stopping == "time limit reached (TIMEOUT)")
        job.attempts[0].endedAt = Self.submitted
        job.state = .failed
        #expect(JobView(job).stopping == nil)
    }

    @Test func succeededJobHasExitCodeZero() {
        var job = Self.finishedJob()
        job.attempts[1].exit = JobExit(code: 0)
        job.attempts[1].finalState = .succeeded
        job.state = .succeeded
        let view = JobView(job)
        #expect(view.exitCode == 0)
        #expect(view.signal == nil)
        #expect(view.attempts[1].state == "SUCCEEDED")
    }

    @Test func encodedJSONHasSnakeCaseKeys() throws {
        var job = Self.finishedJob()
        job.attempts[1].exit = JobExit(code: 3)
        let bytes = WireJSON.encode(JobView(job))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        for key in [
            "gpu_indices", "exit_code", "submitted_at", "started_at", "ended_at", "gpu_type", "time_limit",
            "max_retries", "depends_on", "attempts",
        ] {
            #expect(object[key] != nil, "missing \(key)")
        }
        for camel in ["gpuIndices", "exitCode", "submittedAt", "maxRetries", "dependsOn"] {
            #expect(object[camel] == nil, "camelCase key \(camel)")
        }
        #expect(object["gpu_indices"] as? [Int] == [4, 5])
        #expect(object["exit_code"] as? Int == 3)
        #expect(object["submitted_at"] as? String == "2024-02-29T12:34:56.789Z")
        let attempts = try #require(object["attempts"] as? [[String: Any]])
        #expect(attempts.first?["exit_code"] as? Int == 137)
        #expect(attempts.first?["allocated_at"] as? String == "2024-02-29T12:34:57.789Z")
        // Keys inside user maps are not rewritten.
        let env = try #require(object["env"] as? [String: String])
        #expect(env == ["SEED": "1"])
    }

    @Test func encodedUserMapsKeepTheirKeys() throws {
        var spec = Self.spec()
        spec.env = ["CUDA_HOME": "/usr/local/cuda", "myVar": "1"]
        spec.labels = ["node_pool": "a", "camelLabel": "b"]
        let job = Job(id: JobID("abc"), spec: spec, user: "u", submittedAt: .zero)
        let decoded = try WireJSON.decode(JobView.self, from: WireJSON.encode(JobView(job)))
        #expect(decoded.env == spec.env)
        #expect(decoded.labels == spec.labels)
    }

    @Test func jobViewRoundTrips() throws {
        let view = JobView(Self.finishedJob())
        #expect(try WireJSON.decode(JobView.self, from: WireJSON.encode(view)) == view)
        let list = JobListResponse(jobs: [view], nextCursor: "c1")
        let text = String(decoding: WireJSON.encode(list), as: UTF8.self)
        #expect(text.contains("\"next_cursor\":\"c1\""))
        #expect(try WireJSON.decode(JobListResponse.self, from: WireJSON.encode(list)) == list)
    }

    @Test func errorEnvelope() throws {
        let envelope = ErrorEnvelope(code: "invalid_spec", message: "cwd: must be an absolute path")
        let text = String(decoding: WireJSON.encode(envelope), as: UTF8.self)
        #expect(text == #"{"error":{"code":"invalid_spec","message":"cwd: must be an absolute path"}}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object.count == 1)
        let error = try #require(object["error"] as? [String: String])
        #expect(error == ["code": "invalid_spec", "message": "cwd: must be an absolute path"])
    }

    @Test func errorEnvelopeEscapesHostileText() throws {
        let message = "bad \"quote\" \\ </script> \n\u{0} 🚀"
        let bytes = WireJSON.encode(ErrorEnvelope(code: "x", message: message))
        let decoded = try WireJSON.decode(ErrorEnvelope.self, from: bytes)
        #expect(decoded.error.message == message)
        #expect(!bytes.contains(0))
        #expect(!bytes.contains(UInt8(ascii: "\n")))
    }
}

/// Usage figures from a node are checked before they reach the job: what no machine could measure is dropped.
@Suite struct UsageReportTests {
    @Test func aPlausibleReportBecomesUsage() {
        let report = UsageReport(cpuSeconds: 12.5, memory: 1 << 30, peakMemory: 2 << 30, gpuMemoryMib: 710)
        #expect(
            report.usage
                == ResourceUsage(cpuSeconds: 12.5, memoryBytes: 1 << 30, peakMemoryBytes: 2 << 30, gpuMemoryMiB: 710)
        )
        // A peak below the current figure is raised to it.
        #expect(UsageReport(cpuSeconds: 0, memory: 10, peakMemory: 5).usage?.peakMemoryBytes == 10)
    }

    @Test(arguments: [
        UsageReport(cpuSeconds: -1, memory: 0, peakMemory: 0),
        UsageReport(cpuSeconds: .nan, memory: 0, peakMemory: 0),
        UsageReport(cpuSeconds: .infinity, memory: 0, peakMemory: 0),
        UsageReport(cpuSeconds: 1e13, memory: 0, peakMemory: 0),
        UsageReport(cpuSeconds: 0, memory: -1, peakMemory: 0),
        UsageReport(cpuSeconds: 0, memory: 0, peakMemory: .max),
        UsageReport(cpuSeconds: 0, memory: 0, peakMemory: 0, gpuMemoryMib: -5),
    ])
    func impossibleFiguresAreDropped(_ report: UsageReport) {
        #expect(report.usage == nil)
    }

    @Test func theFinalAccountKeepsThePeaksAndGPUMemoryTheSamplesSaw() {
        let sampled = ResourceUsage(cpuSeconds: 10, memoryBytes: 100, peakMemoryBytes: 900, gpuMemoryMiB: 710)
        let final = ResourceUsage(cpuSeconds: 11, memoryBytes: 0, peakMemoryBytes: 400)
        #expect(
            sampled.ended(with: final)
                == ResourceUsage(cpuSeconds: 11, memoryBytes: 0, peakMemoryBytes: 900, gpuMemoryMiB: 710)
        )
    }
}
