import Foundation
import Testing

@testable import BenchKit

/// `corral-bench replay` on a slice of the real trace, in seconds: the invariants of a replay (nothing placed
/// twice, every job starts, the same seed gives the same result) and the preparation rules (preparing the raw
/// trace at load 0.9 gives the shared prepared file).
@Suite struct ReplayTests {
    static let traces: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/data/traces").path
    }()

    @Test func aSliceReplaysWithoutOvercommitAndReproducibly() throws {
        let jobs = Array(try TraceWorkload.readPrepared(Self.traces + "/replay/openb_load1.1.csv").prefix(500))
        var options = ReplaySimulator.Options()
        options.cluster.nodes = 4  // a small cluster, so the slice queues
        let first = ReplaySimulator(jobs: jobs, options: options).run()
        let metrics = ReplayMetrics(jobs: jobs, outcome: first, cluster: options.cluster)
        #expect(first.overcommits == 0)
        #expect(metrics.neverStarted == 0)
        #expect(metrics.meanWaitMinutes > 0, "the slice should make jobs wait on 4 nodes")
        // No job starts before it arrives.
        for (index, job) in jobs.enumerated() { #expect((first.starts[index] ?? -1) >= job.submit - 0.001) }
        let again = ReplaySimulator(jobs: jobs, options: options).run()
        #expect(again.starts == first.starts && again.users == first.users)
        options.seed = 8
        #expect(ReplaySimulator(jobs: jobs, options: options).run().users != first.users)
    }

    @Test func preparingTheRawTraceGivesThePreparedWorkload() throws {
        let prepared = try TraceWorkload.readPrepared(Self.traces + "/replay/openb_load0.9.csv")
        let made = try TraceWorkload.prepare(
            raw: Self.traces + "/alibaba_openb_2023.csv",
            cluster: ReplayCluster(),
            targetLoad: 0.9
        )
        #expect(made.jobs.count == prepared.count)
        let byID = Dictionary(uniqueKeysWithValues: prepared.map { ($0.id, $0) })
        var mismatches = 0
        for job in made.jobs {
            guard let other = byID[job.id], abs(other.submit - job.submit) < 1, other.duration == job.duration,
                other.gpus == job.gpus, other.cpuMilli == job.cpuMilli, other.memoryMiB == job.memoryMiB
            else {
                mismatches += 1
                continue
            }
        }
        #expect(mismatches == 0)
    }

    @Test func badInputIsAClearError() throws {
        let path = NSTemporaryDirectory() + "corral-replay-\(getpid()).csv"
        defer { unlink(path) }
        for text in ["", "a,b,c\n1,2,3\n", "job_id,submit_s,duration_s,num_gpus,cpu_milli,memory_mib\nx,-1,5,1,1,1\n"] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: (any Error).self) { try TraceWorkload.readPrepared(path) }
        }
        #expect(throws: (any Error).self) { try TraceWorkload.readPrepared("/nonexistent/trace.csv") }
        #expect(throws: (any Error).self) {
            try TraceWorkload.prepare(
                raw: Self.traces + "/alibaba_openb_2023.csv",
                cluster: ReplayCluster(),
                targetLoad: 0
            )
        }
    }
}
