import ClusterCore
import ClusterWire
import CorralSupport
import Foundation
import HTTPKit
import Testing

@testable import ControllerKit

/// Issue 20: the controller's store of agent builds and its routes, on a data directory of the test's own.
/// The "builds" are this test binary with bytes appended (an ELF for this machine, another SHA-256 each).
@Suite struct AgentBuildStoreTests {
    static func elf(_ marker: String) throws -> [UInt8] {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: exe)).prefix(4096))
        bytes += Array(marker.utf8)
        return bytes
    }

    @Test func publishStoresWholeBuildsAndRefusesConflicts() throws {
        let fixture = FileManager.default.temporaryDirectory.appendingPathComponent("builds-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: fixture) }
        let store = AgentBuildStore(dataDir: fixture)
        #expect(store.list().isEmpty)
        let one = try Self.elf("one")
        let (build, new) = try store.publish(one, version: "1.0.0", arch: nil, now: Timestamp(milliseconds: 1000))
        #expect(new && build.sha256 == Digest.sha256Hex(one) && build.size == Int64(one.count))
        #expect(build.arch == AgentBuild.architectures.first { $0 == (build.arch) })
        #expect(FileManager.default.contents(atPath: store.binaryPath(of: build)) == Data(one))
        // The same bytes and version again: nothing changes.
        #expect(try store.publish(one, version: "1.0.0", arch: nil, now: Timestamp(milliseconds: 2000)).new == false)
        #expect(throws: AgentBuildStore.Failure.self) {
            try store.publish(one, version: "1.0.1", arch: nil, now: .zero)
        }
        #expect(throws: AgentBuildStore.Failure.self) {
            try store.publish(try Self.elf("two"), version: "1.0.0", arch: nil, now: .zero)
        }
        let other = build.arch == "x86_64" ? "aarch64" : "x86_64"
        #expect(throws: AgentBuildStore.Failure.self) {
            try store.publish(try Self.elf("two"), version: "2.0.0", arch: other, now: .zero)
        }
        for bad in [[UInt8](), Array("#!/bin/sh\necho corral-agent\n".utf8), [UInt8](repeating: 0x7F, count: 100)] {
            #expect(throws: AgentBuildStore.Failure.self) {
                try store.publish(bad, version: "3.0.0", arch: nil, now: .zero)
            }
        }
        for version in ["", "-1", "1 0", String(repeating: "9", count: 65), "1.0/../x", "v1;rm"] {
            #expect(throws: AgentBuildStore.Failure.self) {
                try store.publish(try Self.elf("v"), version: version, arch: nil, now: .zero)
            }
        }
        let two = try store.publish(
            try Self.elf("two"),
            version: "2.0.0",
            arch: nil,
            now: Timestamp(milliseconds: 5000)
        )
        #expect(store.list().map(\.version) == ["2.0.0", "1.0.0"], "newest first")
        // Half a copy (no build.json), a build.json that names another build, and a stray file are not builds.
        try Files.makeDirectories(store.directory + "/" + String(repeating: "a", count: 64))
        let wrong = store.directory + "/" + String(repeating: "b", count: 64)
        try Files.makeDirectories(wrong)
        try Files.writeAtomically(wrong + "/build.json", WireJSON.encodePretty(two.build))
        try Files.writeAtomically(store.directory + "/notes.txt", "hello")
        #expect(store.list().map(\.version) == ["2.0.0", "1.0.0"])
        #expect(Files.list(store.directory).filter { $0.hasPrefix(".publish") }.isEmpty, "no staging left behind")
    }

    @Test func theRoutesServeBuildsAndRefuseBadInput() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let store = AgentBuildStore(dataDir: fixture.directory)
        let bytes = try Self.elf("served")
        let build = try store.publish(bytes, version: "4.2.0", arch: nil, now: Timestamp(milliseconds: 1)).build
        let admin = try await fixture.credentials.createToken(user: "admin", kind: .admin, expiresIn: nil).0
        func get(_ path: String) async throws -> HTTPResponse {
            var headers = HTTPHeaders()
            headers.set("Authorization", "Bearer " + admin)
            let parts = path.split(separator: "?", maxSplits: 1).map(String.init)
            var query: [String: String] = [:]
            for pair in (parts.count > 1 ? parts[1] : "").split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(
                    String.init
                )
                query[keyValue[0]] = keyValue.count > 1 ? keyValue[1].removingPercentEncoding ?? keyValue[1] : ""
            }
            do {
                return try await fixture.api.responder(log: MemoryLog()).respond(
                    to: HTTPRequest(method: .get, path: parts[0], query: query, headers: headers)
                )
            } catch let error as APIError {
                return HTTPResponse(status: error.status, body: Array(error.message.utf8))
            }
        }
        let listed = try await get("/v1/agent-builds?arch=\(build.arch)&version=4.2.0")
        #expect(listed.status == .ok)
        #expect(try WireJSON.decode(AgentBuildList.self, from: listed.body).builds == [build])
        let other = build.arch == "x86_64" ? "aarch64" : "x86_64"
        #expect(
            try WireJSON.decode(AgentBuildList.self, from: try await get("/v1/agent-builds?arch=\(other)").body).builds
                .isEmpty
        )
        // The download is streamed: through a real server and client.
        var serving = HTTPServerConfiguration()
        serving.host = "127.0.0.1"
        serving.port = 0
        let server = HTTPServer(configuration: serving, responder: fixture.api.responder(log: MemoryLog()))
        try server.start()
        defer { server.shutdown() }
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(server.port)", bearerToken: admin)
        )
        let download = try await client.execute(.get, "/v1/agent-builds/\(build.sha256)")
        #expect(download.status == 200 && download.body == bytes)
        #expect(download.headers["X-Corral-Build-Version"] == "4.2.0")
        for (path, status) in [
            ("/v1/agent-builds?arch=sparc", 400), ("/v1/agent-builds?version=a%20b", 400),
            ("/v1/agent-builds?version=", 400), ("/v1/agent-builds/xyz", 400),
            ("/v1/agent-builds/\(build.sha256.uppercased())", 400),
            ("/v1/agent-builds/" + String(repeating: "c", count: 64), 404),
            ("/v1/agent-builds/" + String(repeating: "c", count: 4096), 400),
        ] {
            #expect(try await get(path).status.code == status, "\(path)")
        }
    }

    /// `POST /v1/agent-rollout`: what it refuses, and a rollout that outlives its controller (a new API over
    /// the same data directory goes on with it).
    @Test func aRolloutRefusesBadRequestsAndSurvivesARestart() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let admin = try await fixture.credentials.createToken(user: "admin", kind: .admin, expiresIn: nil).0
        try await fixture.credentials.ensure(token: "crj_test_join", kind: .cluster, subject: "cluster")
        let register = RegisterRequest(
            nodeId: "n1",
            hostname: "n1",
            bootId: "b",
            cpus: 1,
            memory: 1 << 30,
            gpus: [],
            labels: [:],
            agentVersion: "1.0.0",
            running: [],
            agentBuild: String(repeating: "e", count: 64)
        )
        #expect(
            try await fixture.post(
                "/v1/agents/register",
                String(decoding: WireJSON.encode(register), as: UTF8.self),
                token: "crj_test_join"
            ).status == .ok
        )
        var malformed = register
        malformed.agentBuild = "not-a-sha"
        #expect(
            try await fixture.post(
                "/v1/agents/register",
                String(decoding: WireJSON.encode(malformed), as: UTF8.self),
                token: "crj_test_join"
            ).status == .badRequest
        )
        // No build published yet.
        #expect(try await fixture.post("/v1/agent-rollout", "{}", token: admin).status == .badRequest)
        let build = try AgentBuildStore(dataDir: fixture.directory)
            .publish(try Self.elf("rollout"), version: "2.0.0", arch: nil, now: Timestamp(milliseconds: 1)).build
        for body in [
            #"{"max_parallel":0}"#, #"{"max_parallel":1001}"#, #"{"version":"9.9"}"#, #"{"version":"bad version"}"#,
            #"{"nodes":["n9"]}"#, #"{"nodes":["n1","n1"]}"#, #"{"nodes":[]}"#, #"{"frob":1}"#, #"["#,
        ] {
            #expect(try await fixture.post("/v1/agent-rollout", body, token: admin).status == .badRequest, "\(body)")
        }
        let started = try await fixture.post("/v1/agent-rollout", #"{"max_parallel":2}"#, token: admin)
        #expect(started.status == .created)
        let view = try WireJSON.decode(RolloutView.self, from: started.body)
        #expect(
            view.version == build.version && view.nodes.map(\.phase) == ["updating"] && view.nodes[0].from == "1.0.0"
        )
        #expect(try await fixture.post("/v1/agent-rollout", "{}", token: admin).status == .conflict)
        // The node's heartbeat answer carries the order.
        let again = AgentRollouts(
            store: AgentBuildStore(dataDir: fixture.directory),
            state: fixture.state,
            clock: fixture.clock,
            log: MemoryLog()
        )
        #expect(await again.view() == view, "read back from rollout.json")
        #expect(
            await again.heartbeat(node: NodeID("n1"), updateError: nil)
                == AgentUpdateOrder(rollout: view.id, version: "2.0.0")
        )
        #expect(await again.heartbeat(node: NodeID("n1"), updateError: "disk full") == nil)
        #expect(await again.view()?.state == "failed")
        #expect(
            try await fixture.post("/v1/agent-rollout/abort", "", token: admin).status == .ok,
            "the first API's copy still runs"
        )
    }
}
