import ClusterWire
import Foundation
import Testing

/// Queues, explain and dependencies through the real binaries (agents declare GPUs: no GPU here).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SchedulingTests {
    @Test func explainNamesWhyAJobTooBigForAnyNodeWaits() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("small", gpus: 2)
        try await cluster.configureCLI()
        try await waitUntil("the node is ready", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("READY")
        }
        let id = try await cluster.submit(["--gpus", "4"], ["true"])
        try await waitUntil("the job has a reason", timeout: 30) {
            (try await cluster.job(id)).reason == "NoFeasibleNode"
        }
        let listing = try await cluster.corral(["ls"])
        #expect(listing.stdout.contains("NoFeasibleNode"))
        let explain = try await cluster.corral(["explain", id])
        #expect(explain.status == 0, "\(explain.stderr)")
        #expect(explain.stdout.contains("NoFeasibleNode"))
        #expect(explain.stdout.contains("small:"))
        let json = try await cluster.corral(["explain", id, "--json"])
        let parsed = try JSONDecoder.wire.decode(ExplainResponse.self, from: Data(json.stdout.utf8))
        #expect(parsed.reason == "NoFeasibleNode")
        #expect(parsed.nodes.map(\.node) == ["small"])
        #expect(parsed.nodes.first?.verdict != "fits")
        #expect(parsed.nodes.first?.detail.contains("2") == true, "\(parsed.nodes)")
    }

    @Test func queuesComeFromTheConfigAndUnknownOnesAreRefused() async throws {
        let cluster = try TestCluster()
        let config = cluster.root + "/controller.toml"
        try """
        default_time_limit = 3600

        [queues.default]
        priority = 0

        [queues.urgent]
        priority = 10
        max_running_gpus_per_user = 1
        node_selector = { pool = "fast" }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try await cluster.startController(extra: ["--config", config])
        try await cluster.startAgent("plain", gpus: 2)
        try await cluster.configureCLI()
        let queues = try await cluster.corral(["queues", "--json"])
        let views = try JSONDecoder.wire.decode([QueueView].self, from: Data(queues.stdout.utf8))
        #expect(views.map(\.name) == ["urgent", "default"])
        #expect(views.first?.nodeSelector == ["pool": "fast"])
        #expect(views.first?.maxRunningGpusPerUser == 1)
        let table = try await cluster.corral(["queues"])
        #expect(table.stdout.contains("pool=fast"))

        let unknown = try await cluster.corral(["submit", "--queue", "nope", "--", "true"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("unknown queue 'nope'"))
        #expect(unknown.stderr.contains("default, urgent"))
        // No node carries pool=fast: an urgent job can never run here, and explain says so (once the node is
        // registered: before, the reason is that there are no nodes at all).
        try await waitUntil("the node is registered", timeout: 30) {
            (try await cluster.corral(["nodes"])).stdout.contains("READY")
        }
        let urgent = try await cluster.submit(["--queue", "urgent", "--gpus", "1"], ["true"])
        try await waitUntil("the urgent job has a reason", timeout: 30) {
            (try await cluster.job(urgent)).reason == "NoFeasibleNode"
        }
        let explain = try await cluster.corral(["explain", urgent])
        #expect(explain.stdout.contains("pool"), "\(explain.stdout)")
    }

    @Test func dependenciesWaitForSuccessAndFailWhenTheyCannotBeMet() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        // The first job ends when the test has seen the later one wait (on a loaded machine a fixed 5 s can pass
        // during the four submissions).
        let gate = cluster.root + "/first-may-end"
        let first = try await cluster.submit([], ["sh", "-c", "while [ ! -e \(gate) ]; do sleep 0.1; done"])
        let after = try await cluster.submit(["--after", first], ["true"])
        let broken = try await cluster.submit([], ["sh", "-c", "exit 2"])
        let doomed = try await cluster.submit(["--after", broken], ["true"])
        let waiting = try await cluster.job(after)
        #expect(["QUEUED"].contains(waiting.state))
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let done = try await cluster.waitForState(after, ["SUCCEEDED", "FAILED"], timeout: 30)
        #expect(done.state == "SUCCEEDED")
        let firstJob = try await cluster.job(first)
        #expect((done.startedAt ?? "") >= (firstJob.endedAt ?? "~"), "ran before its dependency ended")
        let failed = try await cluster.waitForState(doomed, ["SUCCEEDED", "FAILED"], timeout: 30)
        #expect(failed.state == "FAILED")
        #expect(failed.attempts.isEmpty)
        #expect(failed.message?.contains(broken) == true, "\(failed.message ?? "")")
    }
}
