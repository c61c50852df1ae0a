import ClusterWire
import Foundation
import Testing

/// The controller over HTTPS with certificates from `corral-controller tls init`, agents with client
/// certificates (mTLS), and the refusal to serve plain HTTP off loopback.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TLSTests {
    @Test func aClusterOverTLSWithAgentCertificates() async throws {
        let cluster = try TestCluster()
        let tls = cluster.root + "/tls"
        let initialized = try await cluster.run(
            "corral-controller",
            [
                "tls", "init", tls, "--host", "localhost", "--ip", "127.0.0.1", "--client", "node-a", "--client",
                "node-c",
            ]
        )
        #expect(initialized.status == 0, "\(initialized.stderr)")
        for file in ["ca.pem", "server.pem", "server-key.pem", "clients/node-a.pem", "clients/node-a-key.pem"] {
            #expect(FileManager.default.fileExists(atPath: "\(tls)/\(file)"), "\(file)")
        }
        try await cluster.startController(extra: [
            "--tls-cert", "\(tls)/server.pem", "--tls-key", "\(tls)/server-key.pem", "--client-ca", "\(tls)/ca.pem",
            "--require-agent-certificate",
        ])
        #expect(cluster.endpoint.hasPrefix("https://"))
        for node in ["node-a", "node-c"] {
            try await cluster.startAgent(
                node,
                gpus: 1,
                extra: [
                    "--ca-file", "\(tls)/ca.pem", "--client-cert", "\(tls)/clients/\(node).pem", "--client-key",
                    "\(tls)/clients/\(node)-key.pem",
                ]
            )
        }
        try await cluster.configureCLI(extra: ["--ca-file", "\(tls)/ca.pem"])
        try await waitUntil("both agents are ready", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.components(separatedBy: "READY").count == 3
        }
        // Two jobs of 1 GPU each: one on each node, over TLS all the way. Each runs until both have run at once
        // (the file `go`), so the second is placed while the first holds its node's GPU, however loaded the
        // machine (CI runs suites in parallel; a fixed 6 s could pass before the second submission).
        let gate = cluster.root + "/go"
        let command = ["sh", "-c", "while [ ! -e \(gate) ]; do sleep 0.1; done"]
        let ids = [
            try await cluster.submit(["--gpus", "1"], command),
            try await cluster.submit(["--gpus", "1"], command),
        ]
        for id in ids { _ = try await cluster.waitForState(id, ["RUNNING"], timeout: 60) }
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        var nodesUsed: Set<String> = []
        for id in ids {
            let job = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60)
            #expect(job.state == "SUCCEEDED")
            nodesUsed.insert(job.node ?? "")
        }
        #expect(nodesUsed == ["node-a", "node-c"])
        // A certificate for one node does not let an agent act as another.
        try await cluster.startAgent(
            "node-d",
            gpus: 1,
            extra: [
                "--ca-file", "\(tls)/ca.pem", "--client-cert", "\(tls)/clients/node-a.pem", "--client-key",
                "\(tls)/clients/node-a-key.pem",
            ]
        )
        try await waitUntil("node-d is refused", timeout: 60) {
            cluster.read(cluster.root + "/node-d.log").contains("CN=node-d")
        }

        // A client with no CA file (or the wrong one) is refused, and says why.
        let noCA = try await cluster.corral(
            ["ls"],
            env: ["CORRAL_ENDPOINT": cluster.endpoint, "CORRAL_TOKEN": cluster.adminToken, "HOME": cluster.root]
        )
        #expect(noCA.status == 1)
        #expect(noCA.stderr.contains("certificate"), "\(noCA.stderr)")

        // An agent without a client certificate cannot register, even with the join token.
        try await cluster.startAgent("node-b", gpus: 1, extra: ["--ca-file", "\(tls)/ca.pem"])
        try await waitUntil("node-b is refused", timeout: 60) {
            cluster.read(cluster.root + "/node-b.log").contains("client certificate")
        }
        // ... and says so, without blaming the join token (issue 18, finding 7).
        #expect(!cluster.read(cluster.root + "/node-b.log").contains("refused the cluster token"))
        let nodes = try await cluster.corral(["nodes", "--json"])
        #expect(!nodes.stdout.contains("node-b"))
        // preflight tells beforehand: without a certificate it fails on the join line; node-a's passes it.
        let without = try await cluster.run("corral-agent", ["preflight", "--config", cluster.root + "/node-b.toml"])
        #expect(without.status == 1)
        #expect(
            without.stdout.contains("FAIL  join accepted") && without.stdout.contains("CN=node-b"),
            "\(without.stdout)"
        )
        let with = try await cluster.run("corral-agent", ["preflight", "--config", cluster.root + "/node-a.toml"])
        #expect(with.stdout.contains("ok    join accepted (token, certificate)"), "\(with.stdout)")
    }

    @Test func plainHTTPOffLoopbackIsRefusedUnlessInsecure() async throws {
        let cluster = try TestCluster()
        let refused = try await cluster.run(
            "corral-controller",
            ["--data-dir", cluster.dataDir, "--listen", "0.0.0.0:0"]
        )
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("refusing to serve plain HTTP"))
        #expect(refused.stderr.contains("tls init"))
        // With --insecure it serves, and says so loudly. (It binds all interfaces; nothing but this test talks to it.)
        let log = cluster.root + "/insecure.log"
        let process = try cluster.launch(
            "corral-controller",
            ["--data-dir", cluster.dataDir, "--listen", "0.0.0.0:0", "--insecure"],
            log: log
        )
        defer { process.terminate() }
        try await waitUntil("the insecure controller is up", timeout: 60) {
            FileManager.default.fileExists(atPath: cluster.dataDir + "/endpoint")
        }
        try await waitUntil("it warns", timeout: 30) { cluster.read(log).contains("INSECURE") }
    }
}
