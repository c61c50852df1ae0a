import ClusterWire
import Foundation
import Glibc
import HTTPKit
import TestSupport
import Testing

/// Agent builds and rollouts with two controllers on a real PostgreSQL server (issues 19 and 20): a build
/// published once, through either controller's data directory, is every controller's; a rollout done under one
/// leader is known to the next; after a kill -9 of the leader, the new one serves the build (copied from the
/// database into its own data directory, byte for byte) and rolls the node onto a build published since.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PostgresAgentBuildTests {
    @Test func buildsAndRolloutsAreEveryControllersAndOutliveTheLeader() async throws {
        let cluster = try TestCluster()
        let flags = try PostgresFailoverTests.databaseFlags(cluster)
        cluster.port = try TestPostgres.freePort()
        try await cluster.startController(extra: flags)
        let standbyPort = try TestPostgres.freePort()
        let standby = try await PostgresFailoverTests.startStandby(
            cluster,
            flags: flags,
            port: standbyPort,
            name: "standby"
        )
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        let endpoints = "\(cluster.endpoint),http://127.0.0.1:\(standbyPort)"
        let bin = cluster.root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let executable = bin + "/corral-agent"
        try FileManager.default.copyItem(atPath: TestCluster.binaries + "/corral-agent", toPath: executable)
        cluster.agentExecutables["node"] = executable
        try await cluster.startAgent("node", gpus: 1, extra: ["--endpoint", endpoints])
        try await cluster.configureCLI(extra: ["--endpoint", endpoints])
        func agents(_ arguments: [String], dataDir: String) async throws -> TestCluster.Result {
            // The database and its password file (not the lease: the command leads nothing).
            try await cluster.run(
                "corral-controller",
                ["agents"] + arguments + ["--data-dir", dataDir] + flags.prefix(4)
            )
        }

        // Published through the leader's data directory, listed through the standby's: one store.
        let first = cluster.root + "/corral-agent-9.9.9"
        try AgentUpdateTests.build(cluster, first, marker: "9.9.9")
        let published = try await agents(["publish", first, "--version", "9.9.9"], dataDir: cluster.dataDir)
        #expect(published.status == 0, "\(published.stderr)")
        let listed = try await agents(["list", "--json"], dataDir: cluster.root + "/standby")
        let builds = try JSONDecoder.wire.decode(AgentBuildList.self, from: Data(listed.stdout.utf8)).builds
        let firstSHA = try AgentUpdateTests.sha256(first)
        #expect(builds.map(\.version) == ["9.9.9"] && builds.first?.sha256 == firstSHA)
        // The same bytes under another version, or another binary under this one: refused by either.
        let relabel = try await agents(["publish", first, "--version", "9.9.10"], dataDir: cluster.root + "/standby")
        #expect(
            relabel.status == 1 && relabel.stderr.contains("already published as version 9.9.9"),
            "\(relabel.stderr)"
        )
        #expect(!FileManager.default.fileExists(atPath: cluster.dataDir + "/agent-builds/\(builds[0].sha256)"))

        let rolled = try await cluster.corral(["nodes", "update"])
        #expect(rolled.status == 0 && rolled.stdout.contains("node: runs 9.9.9"), "\(rolled.stdout)\(rolled.stderr)")
        func rollout() async throws -> RolloutView {
            let status = try await cluster.corral(["nodes", "update", "--status", "--json"])
            #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
            return try JSONDecoder.wire.decode(RolloutView.self, from: Data(status.stdout.utf8))
        }
        let before = try await rollout()
        #expect(before.state == "done")

        cluster.killController()
        try await waitUntil("the standby leads", timeout: 20) {
            cluster.read(cluster.root + "/standby.log").contains("this controller leads (epoch 2")
        }
        // The new leader knows the rollout, and serves the build from the database, byte for byte.
        let after = try await rollout()
        #expect(after.id == before.id && after.state == "done")
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(
                baseURL: "http://127.0.0.1:\(standbyPort)",
                bearerToken: cluster.adminToken.trimmed
            )
        )
        let download = try await client.execute(.get, "/v1/agent-builds/\(builds[0].sha256)")
        #expect(download.status == 200 && Digest.sha256Hex(download.body) == builds[0].sha256)
        #expect(FileManager.default.fileExists(atPath: cluster.root + "/standby/agent-builds/\(builds[0].sha256)"))

        // A build published now (through the dead leader's data directory: the database is the store) rolls the
        // node on under the new leader.
        let second = cluster.root + "/corral-agent-9.9.11"
        try AgentUpdateTests.build(cluster, second, marker: "9.9.11")
        #expect(try await agents(["publish", second, "--version", "9.9.11"], dataDir: cluster.dataDir).status == 0)
        let again = try await cluster.corral(["nodes", "update"])
        #expect(again.status == 0 && again.stdout.contains("node: runs 9.9.11"), "\(again.stdout)\(again.stderr)")
        let (installed, secondSHA) = (try AgentUpdateTests.sha256(executable), try AgentUpdateTests.sha256(second))
        #expect(installed == secondSHA)
    }
}
