import Foundation
import Testing

/// `corral-agent preflight`, `status`, `stop` and `service --dry-run` against a real controller and agent.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AgentCommandsTests {
    @Test func preflightStatusStopAndService() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 2)
        let config = cluster.root + "/node.toml"

        let preflight = try await cluster.run("corral-agent", ["preflight", "--config", config])
        #expect(preflight.status == 0, "\(preflight.stdout)\(preflight.stderr)")
        #expect(preflight.stdout.contains("ok    controller reachable"))
        #expect(preflight.stdout.contains("ok    join accepted (token, certificate)"), "\(preflight.stdout)")
        #expect(preflight.stdout.contains("2 declared"))

        // A wrong join token fails preflight, with exit 1 and the failing line marked.
        let wrong = try await cluster.run(
            "corral-agent",
            ["preflight", "--config", config],
            env: ["CORRAL_CLUSTER_TOKEN": "crj_wrong"]
        )
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("FAIL  join accepted"))

        try await waitUntil("the agent wrote its pid", timeout: 60) {
            FileManager.default.fileExists(atPath: cluster.root + "/node-state/agent.pid")
        }
        let status = try await cluster.run("corral-agent", ["status", "--config", config])
        #expect(status.status == 0, "\(status.stdout)")
        #expect(status.stdout.contains("running (pid"))
        #expect(status.stdout.contains("reachable"))

        let stop = try await cluster.run("corral-agent", ["stop", "--config", config])
        #expect(stop.status == 0)
        let agent = try #require(cluster.agents["node"])
        try await waitUntil("the agent exits", timeout: 60) { !agent.isRunning }
        #expect(try await cluster.run("corral-agent", ["status", "--config", config]).stdout.contains("not running"))

        let unit = try await cluster.run("corral-agent", ["service", "install", "--dry-run", "--config", config])
        #expect(unit.status == 0)
        #expect(unit.stdout.contains("ExecStart=") && unit.stdout.contains("start --config \(config)"))
        #expect(unit.stdout.contains("Restart=on-failure"))

        // With the controller gone, preflight says it cannot reach it.
        cluster.killController()
        let down = try await cluster.run("corral-agent", ["preflight", "--config", config])
        #expect(down.status == 1)
        #expect(down.stdout.contains("FAIL  controller reachable"))
    }
}
