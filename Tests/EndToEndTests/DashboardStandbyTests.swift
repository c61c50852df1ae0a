import ClusterWire
import Foundation
import Glibc
import HTTPKit
import TestSupport
import Testing

/// The dashboard of a standby controller (issue 19) in a real headless Chromium, with a leader and the standby on
/// a real PostgreSQL server: it signs in, shows the jobs and nodes the standby reads from the database, says
/// it is a standby and names the leader; an action (a cancel) is refused with words that send the user to the
/// leader's dashboard, not with a failed cross-origin redirect, and changes nothing.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DashboardStandbyTests {
    @Test func aStandbysDashboardShowsTheClusterAndSendsActionsToTheLeader() async throws {
        let cluster = try TestCluster()
        let flags = try PostgresFailoverTests.databaseFlags(cluster)
        try await cluster.startController(extra: flags)
        let port = try TestPostgres.freePort()
        let standby = try await PostgresFailoverTests.startStandby(cluster, flags: flags, port: port, name: "standby")
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        try await cluster.startAgent("node-a", gpus: 1)
        try await cluster.configureCLI()
        let job = try await cluster.submit(["--name", "sleeper", "--gpus", "1"], ["sleep", "300"])
        _ = try await cluster.waitForState(job, ["RUNNING"])

        let browser = try await Browser(profile: cluster.root + "/chromium", log: cluster.root + "/chromium.log")
        let byID = { (id: String) in "document.getElementById('\(id)')" }
        try await browser.open("http://127.0.0.1:\(port)/")
        try await browser.waitFor("the sign-in view", "!\(byID("login-page")).hidden")
        try await browser.type(cluster.adminToken.trimmed)
        try await browser.press("Enter")
        try await browser.waitFor("the job is listed", "\(byID("jobs")).textContent.includes('\(job)')")
        let who = try await browser.string("\(byID("who")).textContent")
        #expect(who.contains("on a standby controller") && who.contains(cluster.endpoint), "\(who)")

        // The job's page, read by the standby; Cancel is refused there with the leader's address.
        _ = try await browser.evaluate("location.hash = '#/jobs/\(job)'")
        try await browser.waitFor("the running job", "\(byID("job-state")).textContent.startsWith('RUNNING')")
        try await browser.click("#job-cancel")
        try await browser.waitFor("the confirmation", "\(byID("confirm")).open")
        try await browser.click("#confirm-yes")
        try await browser.waitFor("the refusal", "\(byID("error")).textContent.includes('standby')")
        let error = try await browser.string("\(byID("error")).textContent")
        #expect(error.contains(cluster.endpoint) && !error.contains("did not answer"), "\(error)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await cluster.job(job).state == "RUNNING", "nothing was canceled")

        // A node's page: what the standby stores, and the utilization history is the leader's.
        _ = try await browser.evaluate("location.hash = '#/nodes/node-a'")
        try await browser.waitFor("the node's GPU", "\(byID("node-gpus")).rows.length === 1")
        try await browser.waitFor("the history's place", "\(byID("util-chart")).textContent.includes('standby')")
        #expect(browser.problems.isEmpty, "\(browser.problems)")
        _ = try await cluster.corral(["cancel", job, "--yes"])
    }
}
