import ClusterStore
import Foundation
import HTTPKit
import Testing

@testable import ControllerKit

/// `--database` and its company (issue 19), and what a standby and a leader whose lease is unconfirmed answer.
@Suite struct DatabaseConfigurationTests {
    static func parse(_ arguments: [String]) throws -> ControllerConfiguration {
        try ControllerConfiguration.parse(["--config", "/dev/null"] + arguments)
    }

    @Test func aDatabaseURLWithItsLeaseAndAddress() throws {
        let configuration = try Self.parse([
            "--database", "postgres://corral@db:5432/corral?sslmode=require", "--leader-lease", "2",
            "--advertise-url", "https://ctl-a:8700/",
        ])
        #expect(configuration.database == "postgres://corral@db:5432/corral?sslmode=require")
        #expect(configuration.leaderLease == .seconds(2))
        #expect(configuration.advertisedURL == "https://ctl-a:8700")
        #expect(try Self.parse([]).database == nil)
        #expect(try Self.parse(["--listen", "10.0.0.1:9000", "--insecure"]).advertisedURL == "http://10.0.0.1:9000")
    }

    @Test func aPasswordOnTheCommandLineIsRefusedWithoutBeingRepeated() throws {
        for url in ["postgres://corral:s3cret@db/corral", "postgresql://corral@db/corral?password=s3cret"] {
            let error = #expect(throws: ConfigurationError.self) { try Self.parse(["--database", url]) }
            #expect(error?.message.contains("must not hold a password") == true)
            #expect(error?.message.contains("s3cret") == false)
        }
    }

    @Test(arguments: [
        ["--database", "mysql://db/corral"], ["--database", "/var/lib/corral.db"],
        ["--database", "postgres://db/x", "--leader-lease", "0.5"],
        ["--database", "postgres://db/x", "--leader-lease", "301"],
        ["--database", "postgres://db/x", "--leader-lease", "soon"], ["--leader-lease", "3"],
        ["--database-password-file", "/etc/corral/db.password"], ["--advertise-url", "ftp://ctl"],
        ["--advertise-url", "http://a b"],
    ])
    func badDatabaseSettingsAreClearErrors(arguments: [String]) {
        #expect(throws: ConfigurationError.self) { try Self.parse(arguments) }
    }

    /// The config file is the operator's to protect: a URL there may hold its password; the password file is
    /// read at start, and refused when others may read it.
    @Test func theConfigFileMayHoldThePasswordAndAPasswordFileMustBePrivate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("db-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/controller.toml"
        try "database = \"postgres://corral:pw@db/corral\"\nleader_lease = 5\n".write(
            toFile: file,
            atomically: true,
            encoding: .utf8
        )
        let configuration = try ControllerConfiguration.parse(["--config", file])
        #expect(configuration.database == "postgres://corral:pw@db/corral" && configuration.leaderLease == .seconds(5))
        let password = directory + "/db.password"
        try "secret\n".write(toFile: password, atomically: true, encoding: .utf8)
        chmod(password, 0o644)
        let loose = try Self.parse(["--database", "postgres://corral@db/c", "--database-password-file", password])
        #expect(throws: (any Error).self) { try loose.postgresSettings() }
        chmod(password, 0o600)
        #expect(try loose.postgresSettings()?.password == "secret")
    }

    @Test func aStandbySendsClientsToTheLeaderOrAsksThemToRetry() async throws {
        let gate = LeaderGate()
        let standby = StandbyResponder(gate: gate)
        let none = try await standby.respond(to: HTTPRequest(method: .post, path: "/v1/jobs"))
        #expect(none.status.code == 503 && none.headers["Retry-After"] == "1")
        #expect(String(decoding: none.body, as: UTF8.self).contains("no_leader"))
        gate.sawLeader("https://ctl-a:8700")
        let sent = try await standby.respond(
            to: HTTPRequest(method: .get, path: "/v1/jobs", query: ["user": "ana b&c"])
        )
        #expect(sent.status.code == 307)
        #expect(sent.headers["Location"] == "https://ctl-a:8700/v1/jobs?user=ana%20b%26c")
        let health = try await standby.respond(to: HTTPRequest(method: .get, path: "/healthz"))
        #expect(String(decoding: health.body, as: UTF8.self) == #"{"status":"standby","leader":"https://ctl-a:8700"}"#)
    }

    struct Inner: HTTPResponder {
        func respond(to request: HTTPRequest) async throws -> HTTPResponse { .text("served") }
    }

    @Test func aLeaderAnswersOnlyWhileItsLeaseIsSurelyItsOwn() async throws {
        let gate = LeaderGate()
        let gated = LeaderGated(inner: Inner(), gate: gate)
        let request = HTTPRequest(method: .get, path: "/v1/jobs")
        #expect(try await gated.respond(to: request).status.code == 503)
        #expect(try await gated.respond(to: HTTPRequest(method: .get, path: "/healthz")).status.code == 200)
        gate.renewed(epoch: 4, startedAt: .now, lease: .seconds(3))
        #expect(try await gated.respond(to: request).status.code == 200)
        #expect(gate.epoch == 4)
        // A renewal that began a lease ago (the process was paused since) proves nothing now.
        gate.renewed(epoch: 4, startedAt: .now - .seconds(3), lease: .seconds(3))
        #expect(try await gated.respond(to: request).status.code == 503)
        gate.renewed(epoch: 4, startedAt: .now, lease: .seconds(3))
        gate.end()
        #expect(try await gated.respond(to: request).status.code == 503)
    }
}
