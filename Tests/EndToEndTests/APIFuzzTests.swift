import ClusterWire
import Foundation
import Testing

/// schemathesis (PyPI; `./bootstrap qa` installs it) against a live controller with a node and a job, driven
/// by docs/openapi.json as the controller serves it: once with a user's token, once with an admin's. Every
/// generated request must get an answer that is not a 5xx and that conforms to the document. A fixed seed
/// keeps the run reproducible; `just fuzz` runs it longer with fresh seeds.
@Suite(.serialized, .timeLimit(.minutes(6)))
struct APIFuzzTests {
    static var examples: String { ProcessInfo.processInfo.environment["CORRAL_FUZZ_EXAMPLES"] ?? "10" }
    static var seed: [String] {
        ProcessInfo.processInfo.environment["CORRAL_FUZZ_RANDOM"] == nil ? ["--seed", "7"] : []
    }

    /// The test cluster's environment (its own HOME) with Python still finding packages pip put in the real
    /// HOME's user site.
    static func environment(_ cluster: TestCluster) -> [String: String] {
        var env = cluster.environment()
        let real = ProcessInfo.processInfo.environment
        if env["PYTHONUSERBASE"] == nil, let home = real["HOME"] { env["PYTHONUSERBASE"] = home + "/.local" }
        return env
    }

    func fuzz(_ cluster: TestCluster, token: String, label: String) async throws {
        let report = cluster.root + "/fuzz-\(label)"
        let arguments =
            [
                "schemathesis", "run", cluster.endpoint + "/v1/openapi.json", "--url", cluster.endpoint,
                "-H", "Authorization: Bearer \(token)", "--checks", "not_a_server_error,response_schema_conformance",
                "--max-examples", Self.examples, "--no-color", "--report", "junit", "--report-dir", report,
            ] + Self.seed
        let result = try await offPool {
            try TestCluster.runBlocking("/usr/bin/env", arguments, Self.environment(cluster), directory: cluster.root)
        }
        let summary = result.stdout.split(separator: "\n").filter { $0.contains("generated") || $0.contains("passed") }
        print("schemathesis (\(label)): \(summary.joined(separator: " | "))")
        #expect(
            result.status == 0,
            "schemathesis found failures with the \(label) token:\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(2000))"
        )
        #expect(result.stdout.contains("generated"), "schemathesis did not run: \(result.stderr)")
    }

    @Test func noServerErrorAndNoAnswerOutsideTheDocumentForAUserOrAnAdmin() async throws {
        let cluster = try TestCluster()
        // schemathesis 4 (its flags): ./bootstrap qa installs it; say so plainly when it is not there.
        let version = try TestCluster.runBlocking(
            "/usr/bin/env",
            ["python3", "-c", "import schemathesis; print(schemathesis.__version__)"],
            Self.environment(cluster)
        )
        guard version.status == 0, version.stdout.hasPrefix("4.") else {
            Issue.record(
                "schemathesis 4 is not installed (./bootstrap qa installs it): \(version.stdout)\(version.stderr)"
            )
            return
        }
        try await cluster.startController()
        try await cluster.startAgent("node-1", gpus: 1)
        try await cluster.configureCLI()
        let running = try await cluster.submit(["--name", "fuzzed"], ["sleep", "600"])
        _ = try await cluster.waitForState(running, ["RUNNING"])
        // The fuzzer's own submissions then stay queued: no process of theirs runs, and the node's state does
        // not move under it while it runs.
        let drained = try await cluster.corral(["drain", "node-1", "--reason", "fuzzing"])
        #expect(drained.status == 0, "\(drained.stderr)")
        let created = try await cluster.corral(["tokens", "create", "--user", "alice", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let user = try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        try await fuzz(cluster, token: user, label: "user")
        try await fuzz(cluster, token: cluster.adminToken, label: "admin")
    }
}
