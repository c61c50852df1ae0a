import ClusterWire
import Foundation
import Glibc
import HTTPKit
import Testing

/// After a full run, no token appears in the daemons' logs, the SQLite files, the stored job logs or the
/// daemons' command lines.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SecretsHygieneTests {
    @Test func noTokenIsWrittenAnywhere() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        // A user token, used and then revoked.
        let created = try await cluster.corral(["tokens", "create", "--user", "ana", "--json"])
        let userToken = try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        let asAna = ["CORRAL_ENDPOINT": cluster.endpoint, "CORRAL_TOKEN": userToken]
        let id = try await cluster.corral(["submit", "--", "sh", "-c", "echo hello; env | sort"], env: asAna).stdout
            .trimmed
        _ = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"])
        _ = try await cluster.corral(["logs", id], env: asAna)
        #expect(try await cluster.corral(["tokens", "revoke", String(userToken.prefix(12))]).status == 0)
        // A node token, from registering a stand-in node with the join token.
        let joiner = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.clusterToken)
        )
        let register = RegisterRequest(
            nodeId: "stand-in",
            hostname: "stand-in",
            bootId: "b",
            cpus: 1,
            memory: 1 << 30,
            gpus: [],
            labels: [:],
            agentVersion: "test",
            running: []
        )
        let answer = try await joiner.execute(.post, "/v1/agents/register", body: WireJSON.encode(register))
        let nodeToken = try JSONDecoder.wire.decode(RegisterResponse.self, from: Data(answer.body)).nodeToken

        let secrets = [cluster.adminToken, cluster.clusterToken, userToken, nodeToken]
        #expect(secrets.allSatisfy { $0.count > 20 })
        var places: [String: [UInt8]] = [:]
        for name in ["controller.log", "node.log"] {
            places[name] = Array((try? Data(contentsOf: URL(fileURLWithPath: cluster.root + "/" + name))) ?? Data())
        }
        for file in ["corral.db", "corral.db-wal"] {
            let path = cluster.dataDir + "/" + file
            places[file] = Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data())
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: cluster.dataDir + "/logs")) ?? [] {
            places["logs/" + file] = Array(
                (try? Data(contentsOf: URL(fileURLWithPath: cluster.dataDir + "/logs/" + file))) ?? Data()
            )
        }
        for (name, process) in [("controller", cluster.controller), ("agent", cluster.agents["node"])] {
            guard let pid = process?.processIdentifier else { continue }
            places["cmdline of \(name)"] = Array(
                (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            )
        }
        #expect(places["corral.db"]?.isEmpty == false)
        #expect(places.keys.contains { $0.hasPrefix("logs/") }, "the job's log was stored")
        for (place, bytes) in places {
            for secret in secrets {
                #expect(!Self.contains(bytes, Array(secret.utf8)), "a token (\(secret.prefix(8))...) is in \(place)")
            }
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}
