import ClusterWire
import Foundation
import Glibc
import HTTPKit
import Testing

/// After a full run, no token appears in the daemons' logs, the SQLite files, the stored job logs (where the
/// job printed its whole environment), the daemons' /proc/PID/cmdline or any command line the test started.
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
        // The CLI and agent runs are too short to read their /proc/PID/cmdline afterwards: check what the
        // harness started them with (configure takes tokens on stdin or from a file, see below).
        places["command lines"] = Array(
            cluster.commandLines.map { $0.joined(separator: " ") }.joined(separator: "\n").utf8
        )
        #expect(cluster.commandLines.count > 5)
        #expect(places["corral.db"]?.isEmpty == false)
        #expect(places.keys.contains { $0.hasPrefix("logs/") }, "the job's log was stored")
        for (place, bytes) in places {
            for secret in secrets {
                #expect(!Self.contains(bytes, Array(secret.utf8)), "a token (\(secret.prefix(8))...) is in \(place)")
            }
        }
    }

    /// `--token -` / `--token-file` (CLI) and `--cluster-token -` / `--cluster-token-file` (agent) keep
    /// tokens out of argv; a bad source is refused and leaves the saved configuration as it was.
    @Test func tokensCanStayOutOfArgv() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()  // --token - with the admin token on stdin
        #expect(try await cluster.corral(["whoami"]).stdout.contains("admin"))

        let empty = try await cluster.corral(["configure", "--endpoint", cluster.endpoint, "--token", "-"], input: "")
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("empty"), "\(empty.stderr)")
        let open = cluster.root + "/open.token"
        try Data("crl_whatever\n".utf8).write(to: URL(fileURLWithPath: open))
        chmod(open, 0o644)
        let readable = try await cluster.corral(["configure", "--endpoint", cluster.endpoint, "--token-file", open])
        #expect(readable.status == 1)
        #expect(readable.stderr.contains("chmod 600"), "\(readable.stderr)")
        let both = try await cluster.corral(["configure", "--token", "x", "--token-file", open])
        #expect(both.status == 2)
        #expect(try await cluster.corral(["whoami"]).status == 0, "a refused configure changed nothing")

        let wrong = cluster.root + "/wrong.token"
        try Data("crl_notarealtoken\n".utf8).write(to: URL(fileURLWithPath: wrong))
        chmod(wrong, 0o600)
        let checked = try await cluster.corral(["configure", "--endpoint", cluster.endpoint, "--token-file", wrong])
        #expect(checked.status == 1, "configure checks the token with the controller before saving it")
        #expect(checked.stderr.contains("rejected the token"), "\(checked.stderr)")
        #expect(try await cluster.corral(["whoami"]).status == 0)
        let unchecked = try await cluster.corral([
            "configure", "--endpoint", cluster.endpoint, "--token-file", wrong, "--no-verify",
        ])
        #expect(unchecked.status == 0, "\(unchecked.stderr)")
        let rejected = try await cluster.corral(["whoami"])
        #expect(rejected.status == 1, "the token from the file is the one now used")
        #expect(rejected.stderr.contains("token rejected"), "\(rejected.stderr)")

        let config = cluster.root + "/agent.toml"
        let agentArguments = ["configure", "--config", config, "--endpoint", cluster.endpoint, "--node-id", "n1"]
        let agent = try await cluster.run(
            "corral-agent",
            agentArguments + ["--cluster-token", "-"],
            input: cluster.clusterToken + "\n"
        )
        #expect(agent.status == 0, "\(agent.stderr)")
        #expect(cluster.read(config).contains(cluster.clusterToken))
        let agentEmpty = try await cluster.run("corral-agent", agentArguments + ["--cluster-token", "-"], input: "\n")
        #expect(agentEmpty.status == 1)
        #expect(agentEmpty.stderr.contains("empty"), "\(agentEmpty.stderr)")
        let agentOpen = try await cluster.run("corral-agent", agentArguments + ["--cluster-token-file", open])
        #expect(agentOpen.status == 1)
        let agentBoth = try await cluster.run(
            "corral-agent",
            agentArguments + ["--cluster-token", "x", "--cluster-token-file", open]
        )
        #expect(agentBoth.status == 1)
        #expect(agentBoth.stderr.contains("not both"), "\(agentBoth.stderr)")
        #expect(cluster.read(config).contains(cluster.clusterToken), "a refused configure changed nothing")
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}
