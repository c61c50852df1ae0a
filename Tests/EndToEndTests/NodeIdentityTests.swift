import ClusterWire
import Foundation
import HTTPKit
import Testing

/// Issue 18, finding 1: the cluster join token is a shared secret on every node, so it must not be enough to
/// take over a registered node. Real controller, real agents, raw registrations as an attacker would send them.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct NodeIdentityTests {
    /// A registration as a holder of the join token would forge it: the node's id, a boot id of its own.
    func forgedRegistration(_ cluster: TestCluster, node: String, token: String) async throws -> HTTPClientResponse {
        let request = RegisterRequest(
            nodeId: node,
            hostname: "attacker",
            bootId: "forged-boot",
            cpus: 64,
            memory: 1 << 36,
            gpus: [],
            labels: [:],
            agentVersion: "0",
            running: []
        )
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: token))
        return try await client.execute(.post, "/v1/agents/register", body: WireJSON.encode(request))
    }

    func joinCheck(_ cluster: TestCluster, token: String) async throws -> Int {
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: token))
        return try await client.execute(.get, "/v1/agents/join-check").status
    }

    @Test func theJoinTokenCannotTakeOverALiveNodeAndTheAgentComesBackWithItsOwnToken() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        // The job runs until the test has tried to take its node over (the file `go`): a fixed 4 s could end, on
        // a loaded machine, before the test saw it RUNNING.
        let gate = cluster.root + "/go"
        let id = try await cluster.submit([], ["sh", "-c", "while [ ! -e \(gate) ]; do sleep 0.1; done"])
        _ = try await cluster.waitForState(id, ["RUNNING"], timeout: 30)

        // The join token for the live node's id: refused, and nothing about the node changes.
        let forged = try await forgedRegistration(cluster, node: "node", token: cluster.clusterToken)
        #expect(forged.status == 403)
        #expect(ErrorEnvelope.message(in: forged.body).contains("holds its own token"))
        // Neither does a user's token register anything.
        let created = try await cluster.corral(["tokens", "create", "--user", "mallory", "--json"])
        let mallory = try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        #expect(try await forgedRegistration(cluster, node: "node", token: mallory).status == 403)
        #expect(try await forgedRegistration(cluster, node: "new-node", token: mallory).status == 403)
        // A node id of its own is accepted (approval is off), but its token reaches no other node's job: a log
        // upload or a report for the running job's allocation is refused, and its log is untouched.
        let own = try await forgedRegistration(cluster, node: "made-up", token: cluster.clusterToken)
        #expect(own.status == 200)
        let madeUp = try WireJSON.decode(RegisterResponse.self, from: own.body).nodeToken
        let asMadeUp = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: madeUp)
        )
        let upload = try await asMadeUp.execute(
            .post,
            "/v1/allocations/\(id).1/logs?offset=0",
            body: Array("forged\n".utf8)
        )
        #expect(upload.status == 404)
        let report = try await asMadeUp.execute(
            .post,
            "/v1/allocations/\(id).1/status",
            body: Array(#"{"phase":"exited","exit_code":0}"#.utf8)
        )
        #expect(report.status == 403, "\(report.status) \(ErrorEnvelope.message(in: report.body))")
        #expect(try await asMadeUp.execute(.post, "/v1/agents/node/heartbeat", body: Array("{}".utf8)).status == 403)
        #expect(!(try await cluster.corral(["logs", id])).stdout.contains("forged"))
        // Such a node would be handed jobs (that is what --approve-nodes is for): cut it off.
        #expect(try await cluster.corral(["nodes", "revoke", "made-up"]).status == 0)
        let view = try await cluster.corral(["nodes", "show", "node", "--json"])
        let node = try JSONDecoder.wire.decode(NodeView.self, from: Data(view.stdout.utf8))
        #expect(node.hostname != "attacker" && node.cpus == 8)
        // The job was not killed and restarted: one attempt, to its end.
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let job = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED", "LOST"], timeout: 60)
        #expect(job.state == "SUCCEEDED" && job.attempts.count == 1, "\(job.state) \(job.attempts.count)")

        // The agent kept its own token, readable by root alone, and registers again with it after kill -9.
        let tokenFile = cluster.stateDir(agent: "node") + "/node.token"
        let attributes = try FileManager.default.attributesOfItem(atPath: tokenFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let saved = cluster.read(tokenFile)
        try await cluster.restartAgent("node")
        try await waitUntil("the restarted agent registered", timeout: 30) {
            cluster.read(cluster.root + "/node.log").contains("registered with")
        }
        #expect(cluster.read(tokenFile) == saved)
        #expect(!cluster.read(cluster.root + "/node.log").contains("refused"))
        let after = try await cluster.submit([], ["true"])
        #expect(try await cluster.waitForState(after, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
    }

    @Test func withApprovalANewNodeWaitsForAnAdminAndALostTokenNeedsOneToo() async throws {
        let cluster = try TestCluster()
        try await cluster.startController(extra: ["--approve-nodes"])
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        try await waitUntil("the node waits for approval", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("AWAITING-APPROVAL")
        }
        let id = try await cluster.submit([], ["true"])
        try await Task.sleep(for: .seconds(1.5))
        #expect(try await cluster.job(id).state == "QUEUED")
        let explain = try await cluster.corral(["explain", id])
        #expect(explain.stdout.contains("awaiting an admin's approval"), "\(explain.stdout)")
        // A user may not approve.
        let created = try await cluster.corral(["tokens", "create", "--user", "alice", "--json"])
        let alice = try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        let asAlice = ["CORRAL_ENDPOINT": cluster.endpoint, "CORRAL_TOKEN": alice]
        #expect(try await cluster.corral(["nodes", "approve", "node"], env: asAlice).status == 1)

        let approve = try await cluster.corral(["nodes", "approve", "node"])
        #expect(approve.status == 0 && approve.stdout.contains("approved node"), "\(approve.stderr)")
        #expect(try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
        let again = try await cluster.corral(["nodes", "approve", "node"])
        #expect(again.status == 1 && again.stderr.contains("already approved"), "\(again.stderr)")

        // The node loses its state dir's token: the join token alone does not let it back ...
        if let agent = cluster.agents["node"] {
            kill(agent.processIdentifier, SIGKILL)
            agent.waitUntilExit()
        }
        try FileManager.default.removeItem(atPath: cluster.stateDir(agent: "node") + "/node.token")
        try await cluster.restartAgent("node")
        try await waitUntil("the agent is refused", timeout: 60) {
            cluster.read(cluster.root + "/node.log").contains("holds its own token")
        }
        // ... until an admin lets it rejoin; then it registers with the join token and runs work again.
        let rejoin = try await cluster.corral(["nodes", "approve", "node", "--rejoin"])
        #expect(rejoin.status == 0, "\(rejoin.stderr)")
        try await cluster.restartAgent("node")
        let next = try await cluster.submit([], ["true"])
        #expect(try await cluster.waitForState(next, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
        #expect(FileManager.default.fileExists(atPath: cluster.stateDir(agent: "node") + "/node.token"))
    }

    @Test func theJoinTokenRotatesWithoutTouchingRegisteredNodes() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("a", gpus: 1)
        try await cluster.configureCLI()
        try await waitUntil("a is ready", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("READY")
        }
        let old = cluster.clusterToken
        #expect(try await joinCheck(cluster, token: old) == 200)

        let rotated = try await cluster.run("corral-controller", ["rotate-join-token", "--data-dir", cluster.dataDir])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let new = rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(new.hasPrefix("crj_") && new != old && cluster.clusterToken == new)
        try await waitUntil("the controller refuses the old join token", timeout: 30) {
            try await joinCheck(cluster, token: old) == 401
        }
        #expect(try await joinCheck(cluster, token: new) == 200)
        // A new node with the old token is refused; node a, whose agent.toml still holds the old one, registers
        // again after kill -9 with its own token and keeps running work.
        #expect(try await forgedRegistration(cluster, node: "intruder", token: old).status == 401)
        try await cluster.restartAgent("a")
        try await waitUntil("a registered again", timeout: 30) {
            cluster.read(cluster.root + "/a.log").contains("registered with")
        }
        let id = try await cluster.submit([], ["true"])
        #expect(try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
        // A node configured with the new token joins.
        try await cluster.startAgent("b", gpus: 1)
        try await waitUntil("b is ready", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.components(separatedBy: "READY").count == 3
        }
        // No data dir: a clear error, nothing written.
        let missing = try await cluster.run(
            "corral-controller",
            ["rotate-join-token", "--data-dir", cluster.root + "/none"]
        )
        #expect(missing.status == 1 && missing.stderr.contains("no controller data"))
    }
}
