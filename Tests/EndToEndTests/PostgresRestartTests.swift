import ClusterWire
import Foundation
import Glibc
import HTTPKit
import Synchronization
import TestSupport
import Testing

/// PostgreSQL restarted under load (issue 19): the controller answers 503 while the database is away (clients
/// retry), reconnects when it is back, and loses no acknowledged submission. A server of the test's own: the
/// shared one serves other tests.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PostgresRestartTests {
    @Test func theDatabaseRestartedUnderLoadLosesNoAcknowledgedSubmission() async throws {
        let server = try TestPostgres.dedicated()
        let cluster = try TestCluster()
        let password = cluster.root + "/pg.password"
        try (server.password + "\n").write(toFile: password, atomically: true, encoding: .utf8)
        chmod(password, 0o600)
        let flags = ["--database", try server.makeDatabase(), "--database-password-file", password]
        try await cluster.startController(extra: flags)
        try await cluster.startAgent("node", gpus: 0, cpus: 16)
        try await cluster.configureCLI()
        let body = Array(#"{"command":["true"],"cpus":1}"#.utf8)
        let load = ProcessChaosTests.Load()
        let (endpoint, token) = (cluster.endpoint, cluster.adminToken)
        let submitting = Task { await load.run(endpoint: endpoint, token: token, body: body, clients: 4) }

        var restarts = 0
        for mode in ["fast", "immediate"] {
            try await Task.sleep(for: .seconds(1))
            let before = load.acknowledged.withLock { $0.count }
            try server.stop(mode: mode)
            try await Task.sleep(for: .seconds(2))  // away for a while, under load
            try server.start()
            // A commit whose answer the lost connection hid ends the controller (status 75) on purpose: a process
            // manager starts it again, as this test does.
            if !cluster.controllerRuns {
                restarts += 1
                try await cluster.startController(extra: flags)
            }
            try await waitUntil("submissions are taken again after a \(mode) restart", timeout: 30) {
                load.acknowledged.withLock { $0.count } > before + 5
            }
        }
        let (acknowledged, jobs) = try await ProcessChaosTests.settle(load, submitting, cluster)
        let lost = acknowledged.subtracting(jobs.map(\.id))
        print(
            "postgres restarts: acknowledged=\(acknowledged.count) stored=\(jobs.count) lost=\(lost.count) "
                + "refusedOrUnanswered=\(load.refused.withLock { $0 }) controllerRestarts=\(restarts)"
        )
        #expect(lost.isEmpty, "acknowledged but not stored: \(lost.sorted().prefix(10))")
        #expect(jobs.allSatisfy { $0.state == "SUCCEEDED" })
        // It saw the database go and come back, and kept its place as the leader.
        let log = cluster.read(cluster.root + "/controller.log")
        #expect(log.contains("cannot renew the leader's lease") && log.contains("renewed again"), "\(log)")
    }
}
