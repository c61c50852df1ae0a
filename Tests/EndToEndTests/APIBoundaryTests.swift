import ClusterWire
import Foundation
import HTTPKit
import Testing

/// Bad input and bad credentials against a real controller: a clear error, the right status, and no change.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct APIBoundaryTests {
    func client(_ cluster: TestCluster, token: String?) -> HTTPClient {
        HTTPClient(configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: token))
    }

    func error(_ response: HTTPClientResponse) throws -> ErrorEnvelope.Body {
        try JSONDecoder.wire.decode(ErrorEnvelope.self, from: Data(response.body)).error
    }

    func jobCount(_ cluster: TestCluster) async throws -> Int {
        let response = try await client(cluster, token: cluster.adminToken).execute(.get, "/v1/jobs?limit=1000")
        #expect(response.status == 200)
        return try JSONDecoder.wire.decode(JobListResponse.self, from: Data(response.body)).jobs.count
    }

    @Test func missingOrWrongTokensGet401AndChangeNothing() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        let body = WireJSON.encode(SubmitJobRequest(command: ["true"]))
        let before = try await jobCount(cluster)
        for token in [nil, "", "wrong", cluster.adminToken + "x", "Bearer " + cluster.adminToken] {
            let anonymous = client(cluster, token: token)
            let submit = try await anonymous.execute(.post, "/v1/jobs", body: body)
            #expect(submit.status == 401, "token \(token ?? "none")")
            #expect(try error(submit).code == "unauthorized")
            #expect(try await anonymous.execute(.get, "/v1/jobs").status == 401)
            #expect(try await anonymous.execute(.get, "/v1/nodes").status == 401)
            #expect(try await anonymous.execute(.post, "/v1/jobs/abc/cancel").status == 401)
            #expect(try await anonymous.execute(.post, "/v1/agents/register", body: Array("{}".utf8)).status == 401)
        }
        #expect(try await jobCount(cluster) == before)
        // /healthz needs no token.
        #expect(try await client(cluster, token: nil).execute(.get, "/healthz").status == 200)
        // The cluster join token registers agents and nothing else.
        let joiner = client(cluster, token: cluster.clusterToken)
        #expect(try await joiner.execute(.post, "/v1/jobs", body: body).status == 403)
        #expect(try await joiner.execute(.get, "/v1/jobs").status == 403)
        #expect(try await jobCount(cluster) == before)
    }

    @Test(arguments: [
        (#"{"command": ["true"], "cwd": "relative/dir"}"#, "cwd"),
        (#"{"command": ["true"], "cwd": "/", "gpus": -1}"#, "gpus"),
        (#"{"command": ["true"], "cwd": "/", "cpus": -4}"#, "cpus"),
        (#"{"command": ["true"], "cwd": "/", "memory": -5}"#, "memory"),
        (#"{"command": ["true"], "cwd": "/", "memory": "lots"}"#, "memory"),
        (#"{"command": [], "cwd": "/"}"#, "command"),
        (#"{"cwd": "/"}"#, "command"),
        (#"{"command": ["true"], "gpu": 1}"#, "gpu"),
        (#"{"command": ["true"], "gpus": "two"}"#, "gpus"),
        (#"{"command": ["true"], "env": {"CUDA_VISIBLE_DEVICES": "0"}}"#, "env"),
        (#"{"command": ["true"], "time_limit": 0}"#, "time_limit"),
        (#"{"command": "#, "JSON"),
        (#"[1, 2, 3]"#, "object"),
        (#"not json at all"#, "JSON"),
        ("", "empty"),
    ])
    func badSubmissionsGet400NamingTheField(body: String, field: String) async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        let admin = client(cluster, token: cluster.adminToken)
        let response = try await admin.execute(.post, "/v1/jobs", body: Array(body.utf8))
        #expect(response.status == 400, "\(body) -> \(response.status)")
        let envelope = try error(response)
        #expect(envelope.message.contains(field), "\(body): '\(envelope.message)' should name \(field)")
        #expect(try await jobCount(cluster) == 0)
    }

    @Test func unknownJobsAndRoutes() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        let admin = client(cluster, token: cluster.adminToken)
        let missing = try await admin.execute(.get, "/v1/jobs/nosuchjob")
        #expect(missing.status == 404)
        #expect(try error(missing).code == "job_not_found")
        #expect(try await admin.execute(.post, "/v1/jobs/nosuchjob/cancel").status == 404)
        #expect(try await admin.execute(.get, "/v1/nothing").status == 404)
        #expect(try await admin.execute(.delete, "/v1/jobs").status == 405)
        #expect(try await admin.execute(.get, "/v1/jobs?state=BOGUS").status == 400)
        #expect(try await admin.execute(.get, "/v1/jobs?limit=0").status == 400)
    }

    @Test func cliErrorsSayWhatToDo() async throws {
        let cluster = try TestCluster()
        // No configuration at all.
        let unconfigured = try await cluster.corral(["ls"])
        #expect(unconfigured.status == 1)
        #expect(unconfigured.stderr.contains("corral configure"))
        // Usage errors exit 2.
        let usage = try await cluster.corral(["submit", "--gpus"])
        #expect(usage.status == 2)
        #expect(try await cluster.corral(["frobnicate"]).status == 2)
        // An endpoint where nothing listens names the endpoint.
        let down = try await cluster.corral(
            ["ls"],
            env: ["CORRAL_ENDPOINT": "http://127.0.0.1:1", "CORRAL_TOKEN": "x"]
        )
        #expect(down.status == 1)
        #expect(down.stderr.contains("127.0.0.1:1"))
        // A rejected token says so, and --json turns the error into an envelope on stderr.
        try await cluster.startController()
        let rejected = try await cluster.corral(
            ["ls", "--json"],
            env: ["CORRAL_ENDPOINT": cluster.endpoint, "CORRAL_TOKEN": "cru_wrong"]
        )
        #expect(rejected.status == 1)
        let envelope = try JSONDecoder.wire.decode(ErrorEnvelope.self, from: Data(rejected.stderr.utf8))
        #expect(envelope.error.message.contains("token rejected"))
        // The config file holds a token: it is written 0600, and a group-readable one is refused.
        try await cluster.configureCLI()
        let path = cluster.home + "/.corral/config.toml"
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let refused = try await cluster.corral(["ls"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("chmod 600"))
    }
}
