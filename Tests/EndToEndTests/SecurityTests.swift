import ClusterWire
import Foundation
import Testing

/// Tokens, ownership and cutting a node off, through the real CLI and controller.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SecurityTests {
    @Test func usersSeeOnlyTheirOwnJobsAndRevokedTokensStopWorking() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        func token(for user: String) async throws -> String {
            let created = try await cluster.corral(["tokens", "create", "--user", user, "--json"])
            #expect(created.status == 0, "\(created.stderr)")
            return try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        }
        let alice = try await token(for: "alice")
        let bob = try await token(for: "bob")
        let asAlice = ["CORRAL_ENDPOINT": cluster.endpoint, "CORRAL_TOKEN": alice]
        let asBob = ["CORRAL_ENDPOINT": cluster.endpoint, "CORRAL_TOKEN": bob]

        let whoami = try await cluster.corral(["whoami"], env: asAlice)
        #expect(whoami.stdout.hasPrefix("alice (user)"))
        let submitted = try await cluster.corral(["submit", "--", "true"], env: asAlice)
        let id = submitted.stdout.trimmed
        #expect(submitted.status == 0 && !id.isEmpty)
        // bob cannot see, read or cancel alice's job: it looks exactly like an unknown one.
        let bobList = try await cluster.corral(["ls", "--all", "--json"], env: asBob)
        #expect(try JSONDecoder.wire.decode([JobView].self, from: Data(bobList.stdout.utf8)).isEmpty)
        let bobShow = try await cluster.corral(["show", id], env: asBob)
        let unknown = try await cluster.corral(["show", "zzzzzzzzzz"], env: asBob)
        #expect(bobShow.status == 1 && unknown.status == 1)
        #expect(
            bobShow.stderr.replacingOccurrences(of: id, with: "X")
                == unknown.stderr.replacingOccurrences(of: "zzzzzzzzzz", with: "X")
        )
        #expect(try await cluster.corral(["cancel", id], env: asBob).status == 1)
        // Users cannot create tokens or drain nodes.
        let denied = try await cluster.corral(["tokens", "create", "--user", "mallory"], env: asAlice)
        #expect(denied.status == 1 && denied.stderr.contains("only an admin"))
        #expect(try await cluster.corral(["drain", "node"], env: asAlice).status == 1)

        // The admin lists tokens (prefixes, never the tokens) and revokes alice's.
        let list = try await cluster.corral(["tokens", "list"])
        #expect(list.stdout.contains("alice") && !list.stdout.contains(alice))
        let prefix = String(alice.prefix(12))
        #expect(try await cluster.corral(["tokens", "revoke", prefix]).status == 0)
        let rejected = try await cluster.corral(["ls"], env: asAlice)
        #expect(rejected.status == 1)
        #expect(rejected.stderr.contains("token rejected"))
    }

    @Test func aRevokedNodeIsCutOffUntilReadmitted() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        try await waitUntil("the node is ready", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("READY")
        }
        let revoke = try await cluster.corral(["nodes", "revoke", "node"])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        #expect((try await cluster.corral(["nodes"])).stdout.contains("REVOKED"))
        // Its agent's token no longer works and the join token does not let it back in.
        try await waitUntil("the agent is refused", timeout: 60) {
            cluster.read(cluster.root + "/node.log").contains("revoked")
        }
        let id = try await cluster.submit([], ["true"])
        try await Task.sleep(for: .seconds(1))
        #expect(try await cluster.job(id).state == "QUEUED")
        // Readmitted, it registers again and runs the job.
        #expect(try await cluster.corral(["resume", "node"]).status == 0)
        #expect(try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
    }
}
