import ClusterCore
import ClusterWire
import Foundation
import Glibc
import HTTPKit
import TestSupport
import Testing

/// The controller on PostgreSQL (issue 19), with the real binaries and a real PostgreSQL server
/// (`TestPostgres`): one controller runs jobs and keeps them over a kill -9; two share one database, the standby
/// takes over from a killed leader and the jobs it was running go on; a leader paused past its lease ends
/// itself and changes nothing once the other leads.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PostgresFailoverTests {
    /// A database of its own, its password in a 0600 file: the flags a controller needs to use it.
    static func databaseFlags(_ cluster: TestCluster, lease: Int? = 2) throws -> [String] {
        let server = try TestPostgres.shared()
        let url = try server.makeDatabase()
        let file = cluster.root + "/pg.password"
        try (server.password + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        return ["--database", url, "--database-password-file", file]
            + (lease.map { ["--leader-lease", "\($0)"] } ?? [])
    }

    /// A second controller on the same database, standing by on `port`, with a data directory of its own.
    static func startStandby(_ cluster: TestCluster, flags: [String], port: Int, name: String) async throws -> Process {
        let process = try cluster.launch(
            "corral-controller",
            ["--data-dir", cluster.root + "/\(name)", "--listen", "127.0.0.1:\(port)", "--heartbeat-interval", "0.5"]
                + TestCluster.trustedTeam + flags,
            log: cluster.root + "/\(name).log"
        )
        try await waitUntil("\(name) stands by", timeout: 20) {
            cluster.read(cluster.root + "/\(name).log").contains("standing by")
        }
        return process
    }

    @Test func aControllerOnPostgreSQLRunsJobsAndKeepsThemOverAKill() async throws {
        let cluster = try TestCluster()
        let flags = try Self.databaseFlags(cluster)
        try await cluster.startController(extra: flags)
        try await cluster.startAgent("node-a", gpus: 1)
        try await cluster.configureCLI()
        let id = try await cluster.submit(["--gpus", "1"], ["sh", "-c", "echo hello from postgres"])
        _ = try await cluster.waitForState(id, ["SUCCEEDED"])
        #expect(try await cluster.corral(["logs", id]).stdout.contains("hello from postgres"))
        #expect(!FileManager.default.fileExists(atPath: cluster.dataDir + "/corral.db"), "no SQLite file is made")
        cluster.killController()
        try await cluster.startController(extra: flags)
        #expect(try await cluster.job(id).state == "SUCCEEDED")
        let again = try await cluster.submit(["--gpus", "1"], ["true"])
        _ = try await cluster.waitForState(again, ["SUCCEEDED"])
        // A password on the command line is refused before anything starts.
        let refused = try await cluster.run(
            "corral-controller",
            ["--data-dir", cluster.root + "/x", "--database", "postgres://corral:secret@127.0.0.1:1/db"]
        )
        #expect(refused.status != 0 && refused.stderr.contains("must not hold a password"))
        #expect(!refused.stderr.contains("secret"))
    }

    /// With the default settings (a 3 s lease): the time it takes is printed.
    @Test func theStandbyTakesOverFromAKilledLeaderAndRunningJobsGoOn() async throws {
        let cluster = try TestCluster()
        let flags = try Self.databaseFlags(cluster, lease: nil)
        cluster.port = try TestPostgres.freePort()
        try await cluster.startController(extra: flags)
        let standbyPort = try TestPostgres.freePort()
        let standby = try await Self.startStandby(cluster, flags: flags, port: standbyPort, name: "standby")
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        let endpoints = "\(cluster.endpoint),http://127.0.0.1:\(standbyPort)"
        try await cluster.startAgent("node-a", gpus: 2, extra: ["--endpoint", endpoints])
        // The CLI knows both controllers and finds the leader itself.
        try await cluster.configureCLI(extra: ["--endpoint", endpoints])
        let marker = cluster.root + "/runs"
        let running = try await cluster.submit(
            ["--gpus", "1"],
            ["sh", "-c", "echo one; echo start >> \(marker); sleep 15; echo two; echo end >> \(marker)"]
        )
        _ = try await cluster.waitForState(running, ["RUNNING"])
        // Its first line reached the leader before it dies: the new leader holds none of it, and the agent must
        // send it again rather than take the new leader's answer for a full log.
        try await waitUntil("the first line reaches the leader", timeout: 10) {
            try await cluster.corral(["logs", running]).stdout == "one\n"
        }

        cluster.killController()
        let killedAt = Date()
        // One submission, at once: the dead leader refuses connections, the standby asks to retry until it leads,
        // and the CLI waits that out (its Idempotency-Key makes the retries safe).
        let next = try await cluster.submit(["--gpus", "1"], ["echo", "after the failover"])
        let accepted = Date().timeIntervalSince(killedAt)
        _ = try await cluster.waitForState(next, ["RUNNING", "SUCCEEDED"], timeout: 20)
        let started = Date().timeIntervalSince(killedAt)
        print(
            "failover: kill -9 of the leader to the first submission taken \(Int(accepted * 1000)) ms, "
                + "to the first job started by the new leader \(Int(started * 1000)) ms (default lease, 3 s)"
        )
        _ = try await cluster.waitForState(next, ["SUCCEEDED"], timeout: 20)
        #expect(try await cluster.corral(["logs", next]).stdout.contains("after the failover"))

        // The job the old leader placed ran on, reported to the new one, and ran once, its log whole.
        _ = try await cluster.waitForState(running, ["SUCCEEDED"], timeout: 30)
        #expect(cluster.read(marker) == "start\nend")
        #expect(try await cluster.corral(["logs", running]).stdout == "one\ntwo\n")
        #expect(cluster.read(cluster.root + "/standby.log").contains("this controller leads (epoch 2"))
    }

    @Test func aLeaderPausedPastItsLeaseEndsItselfAndChangesNothing() async throws {
        let cluster = try TestCluster()
        let flags = try Self.databaseFlags(cluster)
        cluster.port = try TestPostgres.freePort()
        try await cluster.startController(extra: flags)
        let standbyPort = try TestPostgres.freePort()
        let standby = try await Self.startStandby(cluster, flags: flags, port: standbyPort, name: "standby")
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        try await cluster.configureCLI()
        let before = try await cluster.submit([], ["true"])
        let leader = try #require(cluster.controller)

        kill(leader.processIdentifier, SIGSTOP)
        try await waitUntil("the standby takes over", timeout: 20) {
            cluster.read(cluster.root + "/standby.log").contains("this controller leads (epoch 2")
        }
        // A submission sent to the paused leader waits in its socket; it runs when the leader wakes up.
        async let late = cluster.corral(["submit", "--", "echo", "late"])
        try await Task.sleep(for: .milliseconds(300))
        kill(leader.processIdentifier, SIGCONT)
        let answer = try await late
        #expect(answer.status != 0, "the old leader acknowledged a submission: \(answer.stdout)")
        try await waitUntil("the old leader ends itself", timeout: 20) { !leader.isRunning }
        #expect(leader.terminationStatus == 75)
        #expect(cluster.read(cluster.root + "/controller.log").contains("no longer the leader"))

        cluster.port = standbyPort
        try await cluster.configureCLI()
        let jobs = try await cluster.jobs()
        #expect(jobs.map(\.id) == [before], "only the job acknowledged before the pause is stored")
    }

    /// SIGTERM ends the leader's lease as it stops: with a 30 s lease, the standby leads within a few seconds.
    @Test func aLeaderThatStopsHandsOverAtOnce() async throws {
        let cluster = try TestCluster()
        let flags = try Self.databaseFlags(cluster, lease: 30)
        cluster.port = try TestPostgres.freePort()
        try await cluster.startController(extra: flags)
        let standbyPort = try TestPostgres.freePort()
        let standby = try await Self.startStandby(cluster, flags: flags, port: standbyPort, name: "standby")
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        let leader = try #require(cluster.controller)
        let stoppedAt = Date()
        kill(leader.processIdentifier, SIGTERM)
        try await waitUntil("the leader stops", timeout: 10) { !leader.isRunning }
        #expect(leader.terminationStatus == 0)
        try await waitUntil("the standby leads", timeout: 10) {
            cluster.read(cluster.root + "/standby.log").contains("this controller leads (epoch 2")
        }
        #expect(Date().timeIntervalSince(stoppedAt) < 10, "the standby waited for the lease")
    }
}
