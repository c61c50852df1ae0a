import ClusterWire
import Foundation
import HTTPKit
import TestSupport
import Testing

/// Finished jobs out of memory (issue 16), with the real binaries: a controller that keeps only the two newest
/// finished jobs (or none) shows, lists, resolves, depends on, cancels and counts the older ones from SQLite
/// exactly as it did while it held them, before and after a restart; /metrics says how many jobs it holds.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FinishedJobsWindowTests {
    @Test(arguments: [2, 0]) func finishedJobsOutOfMemoryReadAsTheyWereHeld(window: Int) async throws {
        let cluster = try TestCluster()
        try await cluster.startController(extra: ["--finished-jobs-in-memory", "\(window)"])
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        // Each job as `show --json` printed it right after it ended (the newest finished: in memory, unless the
        // window is 0).
        var held: [String: String] = [:]
        func finish(_ options: [String], _ command: [String], _ state: String) async throws -> String {
            let id = try await cluster.submit(options, command)
            #expect(try await cluster.waitForState(id, ["SUCCEEDED", "FAILED", "CANCELED"]).state == state)
            held[id] = try await cluster.corral(["show", id, "--json"]).stdout
            return id
        }
        let first = try await finish(["--name", "first"], ["sh", "-c", "echo one"], "SUCCEEDED")
        let broken = try await finish(["--name", "broken", "--retries", "0"], ["false"], "FAILED")
        let array = try await cluster.submit(["--array", "0-2", "--name", "sweep"], ["true"])
        try await waitUntil("the array's tasks succeed", timeout: 30) {
            let listed = try await cluster.corral(["ls", "--all", "--array", array, "--json"]).stdout
            let tasks = try JSONDecoder.wire.decode([JobView].self, from: Data(listed.utf8))
            return tasks.count == 3 && tasks.allSatisfy { $0.state == "SUCCEEDED" }
        }
        let last = try await finish(["--name", "last"], ["true"], "SUCCEEDED")
        // Six finished, two held: `first`, `broken` and the array's first tasks are read from SQLite now.
        let inMemory = try await Self.gauge(cluster, "corral_jobs_in_memory")
        #expect(inMemory == window, "jobs in memory: \(inMemory)")
        #expect(try await Self.gauge(cluster, "corral_jobs{state=\"SUCCEEDED\"}") == 5)

        for restarted in [false, true] {
            if restarted {
                cluster.killController()
                try await cluster.startController(extra: ["--finished-jobs-in-memory", "\(window)"])
                #expect(try await Self.gauge(cluster, "corral_jobs_in_memory") == window)
                // `broken`, and the job that depended on it.
                #expect(try await Self.gauge(cluster, "corral_jobs{state=\"FAILED\"}") == 2)
            }
            for (id, shown) in held {
                let now = try await cluster.corral(["show", id, "--json"])
                #expect(now.stdout == shown, "job \(id) (restarted: \(restarted)) reads otherwise out of memory")
            }
            // A unique prefix still finds a job out of memory; its log and history are there. Nine letters: ids are
            // made in order, and this test's, made within a second or two, share their first six.
            let short = try await cluster.corral(["show", String(first.prefix(9))])
            #expect(short.status == 0 && short.stdout.contains(first), "\(short.stderr)")
            #expect(try await cluster.corral(["logs", first]).stdout.contains("one"))
            #expect(try await cluster.events(first).contains { $0.to == "SUCCEEDED" })
            // Every job listed, newest first, whether held or not; the array collapsed to one line with its counts.
            let expanded = try await cluster.corral(["ls", "--all", "--expand", "--json"])
            let listed = try JSONDecoder.wire.decode([JobView].self, from: Data(expanded.stdout.utf8)).map(\.id)
            #expect(listed.count == 6 + (restarted ? 2 : 0) && listed.last == first, "\(listed)")
            #expect(listed.firstIndex(of: last) == (restarted ? 2 : 0), "\(listed)")
            let views = try await cluster.jobs()
            #expect(views.map(\.name).suffix(4) == ["last", "sweep", "broken", "first"], "\(views.map(\.name))")
            #expect(views.first { $0.name == "sweep" }?.arraySummary?.states == ["SUCCEEDED": 3])
            // Pages of two through the API: every job once, in the same order.
            var paged: [String] = []
            var cursor: String?
            repeat {
                let page = try JSONDecoder.wire.decode(
                    JobListResponse.self,
                    from: try await Self.get(cluster, "/v1/jobs?limit=2" + (cursor.map { "&cursor=" + $0 } ?? ""))
                )
                paged += page.jobs.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(paged == listed)
            // Cancelling one that ended says so and changes nothing.
            let cancel = try await cluster.corral(["cancel", first])
            #expect(cancel.status != 0 && cancel.stderr.contains("SUCCEEDED"), "\(cancel.stderr)")
            // The array, partly or wholly out of memory: cancelling or holding it finds every task ended.
            let arrayCancel = try await cluster.corral(["cancel", array])
            #expect(arrayCancel.stdout.contains("0 task(s) (3 had already ended)"), "\(arrayCancel.stdout)")
            let arrayHold = try await cluster.corral(["hold", array])
            #expect(arrayHold.stdout.contains(": 0 task(s) (3 skipped"), "\(arrayHold.stdout) \(arrayHold.stderr)")
            // Dependencies on jobs and an array out of memory: success runs, failure fails the dependent.
            let after = try await cluster.submit(["--after", first, "--after", array], ["true"])
            #expect(try await cluster.waitForState(after, ["SUCCEEDED", "FAILED"]).state == "SUCCEEDED")
            let doomed = try await cluster.submit(["--after", broken], ["true"])
            let failed = try await cluster.waitForState(doomed, ["SUCCEEDED", "FAILED"])
            #expect(failed.state == "FAILED" && (failed.message ?? "").contains(broken), "\(failed.message ?? "")")
            held[after] = try await cluster.corral(["show", after, "--json"]).stdout
        }
        // Accounting counts every job, held or not: 6, then 2 per round.
        let usage = try await cluster.corral(["usage", "--json"])
        let rows = try JSONDecoder.wire.decode(UsageResponse.self, from: Data(usage.stdout.utf8)).rows
        #expect(rows.reduce(0) { $0 + $1.jobs } == 10, "\(usage.stdout)")
    }

    /// An array whose failed task left memory while another task did not: its counts and its dependents see the
    /// failure; after a restart, with the array wholly out of memory (read from SQLite), too.
    @Test func anArrayPartlyOutOfMemoryKeepsItsFailureForItsDependents() async throws {
        let cluster = try TestCluster()
        try await cluster.startController(extra: ["--finished-jobs-in-memory", "2"])
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        // Task 0 fails at once; tasks 1 and 2 succeed a moment later.
        let array = try await cluster.submit(
            ["--array", "0-2"],
            ["sh", "-c", "[ $CORRAL_ARRAY_TASK_ID = 0 ] && exit 3; sleep 0.5"]
        )
        try await waitUntil("the array's tasks end", timeout: 30) {
            let listed = try await cluster.corral(["ls", "--all", "--array", array, "--json"]).stdout
            let tasks = try JSONDecoder.wire.decode([JobView].self, from: Data(listed.utf8))
            return tasks.count == 3 && tasks.allSatisfy { $0.state == "SUCCEEDED" || $0.state == "FAILED" }
        }
        let plain = try await cluster.submit([], ["true"])
        #expect(try await cluster.waitForState(plain, ["SUCCEEDED"]).state == "SUCCEEDED")
        for restarted in [false, true] {
            if restarted {
                cluster.killController()
                try await cluster.startController(extra: ["--finished-jobs-in-memory", "2"])
            }
            // Two held: first the plain job and a task (the failed task and another out of memory), after the
            // restart the plain job and the first dependent.
            #expect(try await Self.gauge(cluster, "corral_jobs_in_memory") == 2)
            let shown = try JSONDecoder.wire.decode(
                JobView.self,
                from: Data(try await cluster.corral(["show", array, "--json"]).stdout.utf8)
            )
            #expect(shown.arraySummary?.states == ["FAILED": 1, "SUCCEEDED": 2], "\(String(describing: shown))")
            #expect(shown.arraySummary?.tasks == 3)
            let dependent = try await cluster.submit(["--after", array], ["true"])
            let ended = try await cluster.waitForState(dependent, ["SUCCEEDED", "FAILED"])
            #expect(ended.state == "FAILED" && (ended.message ?? "").contains(array), "\(ended.message ?? "")")
        }
    }

    static func get(_ cluster: TestCluster, _ path: String) async throws -> Data {
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.adminToken)
        )
        return Data(try await client.execute(.get, path).body)
    }

    /// One sample of a /metrics series, by its name and labels as written.
    static func gauge(_ cluster: TestCluster, _ series: String) async throws -> Int {
        let text = String(decoding: try await get(cluster, "/metrics"), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Int(line.dropFirst(series.count + 1)) ?? -1
        }
        throw TestFailure("no \(series) in /metrics")
    }
}
