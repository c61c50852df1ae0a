import ClusterWire
import Foundation
import Glibc
import Testing

/// Log shipping (every byte exactly once, through outages) and agent fencing, with the real binaries.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct LogsAndFencingTests {
    @Test func logsComeBackByteForByte() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        // About 2 MB, so it crosses the agent's 1 MiB shipping chunks, on stdout and stderr.
        let id = try await cluster.submit([], ["sh", "-c", "seq 1 300000; echo to-stderr >&2"])
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60)
        #expect(done.state == "SUCCEEDED")
        let logs = try await cluster.corral(["logs", id])
        #expect(logs.status == 0, "\(logs.stderr)")
        let expected = (1...300_000).map(String.init).joined(separator: "\n") + "\nto-stderr\n"
        #expect(logs.stdout.count == expected.count)
        #expect(logs.stdout == expected)

        // --tail reads back from the end: 3 lines fit the first 64 KiB window, 100,000 lines need larger ones.
        let three = try await cluster.corral(["logs", "--tail", "3", id])
        #expect(three.stdout == "299999\n300000\nto-stderr\n", "\(three.stderr)")
        let many = try await cluster.corral(["logs", "--tail", "100000", id])
        #expect(many.stdout == (200_002...300_000).map(String.init).joined(separator: "\n") + "\nto-stderr\n")
        #expect(try await cluster.corral(["logs", "-n", "0", id]).stdout.isEmpty)
        #expect(try await cluster.corral(["logs", "--tail", "400000", id]).stdout == expected)
        // With -f after the end: the last lines, then it stops because the job has finished.
        let followed = try await cluster.corral(["logs", "-f", "--tail", "1", id])
        #expect(followed.status == 0, "\(followed.stderr)")
        #expect(followed.stdout == "to-stderr\n")
        for bad in [["--tail", "x"], ["--tail", "-1"], ["--tail"]] {
            #expect(try await cluster.corral(["logs"] + bad + [id]).status == 2, "\(bad)")
        }
    }

    @Test func followStreamsUntilTheJobEnds() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        let id = try await cluster.submit([], ["sh", "-c", "for i in $(seq 1 20); do echo line $i; sleep 0.1; done"])
        let follow = try await cluster.corral(["logs", "-f", id])
        #expect(follow.status == 0, "\(follow.stderr)")
        #expect(follow.stdout == (1...20).map { "line \($0)\n" }.joined())
        #expect(try await cluster.job(id).state == "SUCCEEDED")
    }

    @Test func aControllerOutageLosesAndDoublesNoLine() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        // A line every 100 ms for 30 s; the controller is down (kill -9) for 20 s of it, as the issue asks.
        let id = try await cluster.submit([], ["sh", "-c", "for i in $(seq 1 300); do echo line $i; sleep 0.1; done"])
        _ = try await cluster.waitForState(id, ["RUNNING"])
        try await Task.sleep(for: .seconds(1))
        cluster.killController()
        try await Task.sleep(for: .seconds(20))
        try await cluster.startController()
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 90)
        #expect(done.state == "SUCCEEDED", "\(cluster.logs())")
        try await waitUntil("the whole log is shipped", timeout: 60) {
            (try await cluster.corral(["logs", id])).stdout.hasSuffix("line 300\n")
        }
        let logs = try await cluster.corral(["logs", id])
        #expect(logs.stdout == (1...300).map { "line \($0)\n" }.joined())
    }

    @Test func anAgentThatCannotRenewItsLeaseStopsTheJobAndItIsRetried() async throws {
        let cluster = try TestCluster()
        // A 16 s lease: the agent fences at 16 - 4 (grace) - 1.6 (margin) = 10.4 s after its last renewal, room
        // for a loaded machine to restart the controller (with 8, its fence came at 5.2 s).
        let fast = ["--node-timeout", "2", "--allocation-lease", "16"]
        try await cluster.startController(extra: fast)
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        // A short outage (well under the lease) stops nothing. The job runs until the test lets it end (a fixed
        // 8 s can end, on a loaded machine, before the test looks).
        let gate = cluster.root + "/steady-may-end"
        let steady = try await cluster.submit([], ["sh", "-c", "while [ ! -e \(gate) ]; do sleep 0.1; done"])
        let running = try await cluster.waitForState(steady, ["RUNNING"])
        let pid = try #require(running.attempts.last?.pid)
        cluster.killController()
        try await Task.sleep(for: .milliseconds(1000))
        try await cluster.startController(extra: fast)
        try await Task.sleep(for: .seconds(1))
        #expect(kill(pid, 0) == 0, "a short outage must not stop the job")
        #expect(try await cluster.job(steady).state == "RUNNING")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)

        // A long one (past the lease) makes the agent stop the job itself; when the controller is back the
        // job is reported fenced (a node fault), not as its own success or failure, and runs again.
        let fenced = try await cluster.submit([], ["sleep", "600"])
        let first = try await cluster.waitForState(fenced, ["RUNNING"])
        let fencedPid = try #require(first.attempts.last?.pid)
        cluster.killController()
        let killed = ContinuousClock.now
        try await waitUntil("the agent fences the job", timeout: 30) { kill(fencedPid, 0) != 0 }
        // Dead before the lease can have run out at the controller (its last renewal was before the kill), so
        // a copy started elsewhere never overlaps this one: the supervisor fences early by the grace it gives.
        #expect(ContinuousClock.now - killed < .seconds(16))
        try await cluster.startController(extra: fast)
        try await waitUntil("the fenced job runs again", timeout: 60) {
            let job = try await cluster.job(fenced)
            return job.attempts.count >= 2 && job.attempts.first?.state == "LOST"
        }
        let shown = try await cluster.corral(["show", fenced])
        #expect(shown.stdout.contains("fenced"), "\(shown.stdout)")
    }
}
