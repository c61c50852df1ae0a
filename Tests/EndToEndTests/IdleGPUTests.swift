import ClusterWire
import Foundation
import HTTPKit
import Testing

/// The idle-GPU flag with the real binaries (issue 17). This machine has no GPU: the agent's nvidia-smi is the
/// stand-in of `UsageTests` (the format recorded on a real H100), whose utilization the test sets through a
/// file. A 3 s idle window stands for the default 30 min.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct IdleGPUEndToEndTests {
    @Test func aJobWhoseGPUsSitAtZeroIsFlaggedThenClearedAndAStrictQueueCancelsIt() async throws {
        let cluster = try TestCluster()
        let tools = cluster.root + "/tools"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        let nvidiaSMI = try UsageTests.standInNvidiaSMI(in: tools)
        let config = cluster.root + "/controller.toml"
        try """
        idle_gpu_window = 3
        idle_gpu_threshold = 5

        [queues.default]

        [queues.strict]
        idle_cancel_after = 2
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try await cluster.startController(extra: ["--config", config])
        // At 0 % from the agent's first sample: one taken at 5 % (the stand-in's start) within the window of a
        // job started soon after registration would make its mean 0.8 %.
        try "0\n".write(toFile: tools + "/util", atomically: true, encoding: .utf8)
        try await cluster.startAgent("gpu-node", gpus: 0, nvidiaSMI: nvidiaSMI)
        try await cluster.configureCLI()
        func setUtilization(_ percent: Int) throws {
            try "\(percent)\n".write(toFile: tools + "/util", atomically: true, encoding: .utf8)
        }
        try setUtilization(0)
        let job = try await cluster.submit(["--gpus", "1"], ["sleep", "300"])
        _ = try await cluster.waitForState(job, ["RUNNING"])
        // Flagged once its GPU has sat at 0 % for the window: in the API, corral ls, corral show, /metrics.
        try await waitUntil("the job is flagged idle", timeout: 30) { try await cluster.job(job).idle != nil }
        let idle = try #require(try await cluster.job(job).idle)
        #expect(idle.meanUtilization == 0)
        let listing = try await cluster.corral(["ls"])
        #expect(listing.stdout.contains("IDLE (GPUs at 0.0%)"), "\(listing.stdout)")
        let shown = try await cluster.corral(["show", job])
        #expect(shown.stdout.contains("flagged idle since"), "\(shown.stdout)")
        let metrics = try await MetricsEndToEndTests.scrape(cluster).samples
        #expect(
            metrics[#"corral_jobs_idle{queue="default"}"#] == 1
                && metrics[#"corral_idle_job_gpus{queue="default"}"#] == 1
        )
        let events = try await cluster.events(job).map(\.reason)
        #expect(events.contains { $0.hasPrefix("GPUs idle: 0.0% on average") && !$0.contains("canceled") }, "\(events)")
        // The node's history has the figures the dashboard draws.
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.adminToken)
        )
        let history = try JSONDecoder.wire.decode(
            NodeUtilizationResponse.self,
            from: Data(try await client.execute(.get, "/v1/nodes/gpu-node/utilization").body)
        )
        #expect(history.gpus.first?.index == 0 && (history.gpus.first?.points.count ?? 0) >= 3, "\(history)")
        #expect(try await client.execute(.get, "/v1/nodes/nosuchnode/utilization").status == 404)
        // Busy again: the flag goes once the window's mean is over the threshold; the job was never canceled.
        try setUtilization(90)
        try await waitUntil("the idle flag clears", timeout: 30) { try await cluster.job(job).idle == nil }
        #expect(try await cluster.job(job).state == "RUNNING")
        _ = try await cluster.corral(["cancel", job])
        _ = try await cluster.waitForState(job, ["CANCELED"])

        // In a queue with idle_cancel_after, an idle job is warned in its event log, then canceled.
        try setUtilization(0)
        let strict = try await cluster.submit(["--gpus", "1", "--queue", "strict"], ["sleep", "300"])
        let ended = try await cluster.waitForState(strict, ["CANCELED", "FAILED", "SUCCEEDED"], timeout: 60)
        #expect(ended.state == "CANCELED" && ended.message == "canceled by corral: its GPUs stayed idle", "\(ended)")
        let warnings = try await cluster.events(strict).map(\.reason)
        #expect(warnings.contains { $0.contains("it will be canceled in 2 s unless they get busy") }, "\(warnings)")
        let after = try await MetricsEndToEndTests.scrape(cluster).samples
        #expect(after[#"corral_jobs_ended_total{reason="idle_gpus",state="CANCELED"}"#] == 1)
    }
}
