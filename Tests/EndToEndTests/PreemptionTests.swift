import ClusterWire
import Foundation
import Testing

/// Preemption with the real binaries (issue 15): a low-tier job holds every GPU of the only node; a high-tier
/// job arrives. The low one gets SIGTERM (it traps it and says so), its grace, and goes back to the queue with
/// its retries untouched; the high one runs; then the low one runs again and succeeds. No GPU here: the agent
/// declares them (see WalkingSkeletonTests).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PreemptionEndToEndTests {
    @Test func aHighTierJobPreemptsALowTierOneWhichRunsAgainAfterwards() async throws {
        let cluster = try TestCluster()
        let config = cluster.root + "/controller.toml"
        try """
        preemption_min_runtime = 1

        [queues.default]
        priority = 0

        [queues.batch]
        priority = 0
        preemptible = true

        [queues.urgent]
        priority = 10
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try await cluster.startController(extra: ["--config", config])
        try await cluster.startAgent("node", gpus: 2)
        try await cluster.configureCLI()
        let marks = cluster.root + "/marks"
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        // Traps SIGTERM, says so (to its log and a file), and exits 143 once the test has seen the preemption
        // under way (the file `go`: a loaded machine cannot make the test miss the grace); run a second time, it
        // succeeds.
        let low = try await cluster.submit(
            ["--queue", "batch", "--gpus", "2", "--retries", "0", "--kill-grace", "60", "--signal", "USR1@1"],
            [
                "sh", "-c",
                "n=$(cat \(marks)/runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > \(marks)/runs; "
                    + "if [ $n -gt 1 ]; then echo second run; exit 0; fi; "
                    + "trap 'echo checkpoint' USR1; "
                    + "trap 'echo got SIGTERM; echo term > \(marks)/term; "
                    + "while [ ! -f \(marks)/go ]; do sleep 0.1; done; exit 143' TERM; "
                    + "echo first run; while true; do sleep 0.1; done",
            ]
        )
        _ = try await cluster.waitForState(low, ["RUNNING"], timeout: 30)
        try await Task.sleep(for: .seconds(1.5))  // past the 1 s minimum run time
        let high = try await cluster.submit(
            ["--queue", "urgent", "--gpus", "2"],
            ["sh", "-c", "echo urgent ran; sleep 1"]
        )
        // While the low job takes its grace, explain names it.
        try await waitUntil("explain names the job being preempted", timeout: 20) {
            let explain = try await cluster.corral(["explain", high])
            return explain.stdout.contains("will preempt \(low)")
        }
        // Preempting: the low job holds on to its grace until the test lets it end.
        let waiting = try await cluster.job(high)
        #expect(waiting.reason == "Preempting" && waiting.state == "QUEUED", "\(waiting)")
        try "go".write(toFile: marks + "/go", atomically: true, encoding: .utf8)
        // The low job is stopped and queued again; the high one runs, then the low one again.
        let done = try await cluster.waitForState(high, ["SUCCEEDED", "FAILED"], timeout: 60)
        #expect(done.state == "SUCCEEDED", "\(done.message ?? "")")
        #expect(FileManager.default.fileExists(atPath: marks + "/term"), "the low job got no SIGTERM")
        let again = try await cluster.waitForState(low, ["SUCCEEDED", "FAILED"], timeout: 60)
        #expect(again.state == "SUCCEEDED", "\(again.message ?? "")")
        #expect(again.preemptions == 1)
        #expect(again.attempts.count == 2)
        #expect(again.attempts.first?.state == "PREEMPTED")
        #expect(again.attempts.first?.preemptedBy == high)
        // Its first attempt's log has the trap's line; its retries were not spent (max_retries 0, yet it ran again).
        let firstLog = try await cluster.corral(["logs", "--attempt", "1", low])
        #expect(firstLog.stdout.contains("got SIGTERM"), "\(firstLog.stdout)")
        // Its checkpoint signal (--signal USR1@1) came first, a second ahead of the SIGTERM.
        let lines = firstLog.stdout.split(separator: "\n").map(String.init)
        #expect(
            (lines.firstIndex(of: "checkpoint") ?? .max) < (lines.firstIndex(of: "got SIGTERM") ?? -1),
            "\(lines)"
        )
        let show = try await cluster.corral(["show", low])
        #expect(show.stdout.contains("preempted") && show.stdout.contains("no retry spent"), "\(show.stdout)")
        let events = try await cluster.events(low)
        #expect(events.contains { $0.reason.contains("preempted by job \(high)") })
        // The high job started only after the low one's process was gone: its start follows the preemption.
        #expect((done.startedAt ?? "") >= (again.attempts.first?.endedAt ?? "~"))
    }

    @Test func explainSaysWhoWillBePreemptedAndLowTierJobsNeverPreempt() async throws {
        let cluster = try TestCluster()
        let config = cluster.root + "/controller.toml"
        try """
        preemption_min_runtime = 3600

        [queues.default]
        priority = 0
        preemptible = true

        [queues.urgent]
        priority = 10
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try await cluster.startController(extra: ["--config", config])
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        // Runs for the whole test (a loaded machine's dozen CLI calls could outlast a minute); canceled at its end.
        let running = try await cluster.submit(["--gpus", "1"], ["sleep", "600"])
        _ = try await cluster.waitForState(running, ["RUNNING"], timeout: 30)
        // Too young to preempt (a one-hour minimum): the urgent job waits for resources, and says why (once a
        // pass has seen it: waited for, not assumed after a fixed time).
        let urgent = try await cluster.submit(["--queue", "urgent", "--gpus", "1"], ["true"])
        try await Task.sleep(for: .seconds(1.5))
        try await waitUntil("the urgent job waits for resources", timeout: 30) {
            try await cluster.job(urgent).reason == "Resources"
        }
        #expect(try await cluster.job(running).state == "RUNNING")
        // A default-queue job never preempts one of its own tier.
        let peer = try await cluster.submit(["--gpus", "1"], ["true"])
        try await Task.sleep(for: .seconds(1))
        #expect(try await cluster.job(peer).state == "QUEUED")
        #expect(try await cluster.job(running).state == "RUNNING")
        _ = try await cluster.corral(["cancel", running, urgent, peer])
    }
}
