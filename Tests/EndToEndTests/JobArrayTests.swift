import ClusterCore
import ClusterWire
import Foundation
import Glibc
import Testing

/// Job arrays and submit-time dependency checks through the real binaries (declared GPUs: no GPU here).
@Suite(.serialized, .timeLimit(.minutes(4)))
struct JobArrayTests {
    static let active: Set<String> = ["ALLOCATED", "STARTING", "RUNNING"]

    func tasks(_ cluster: TestCluster, _ array: String) async throws -> [JobView] {
        let result = try await cluster.corral(["ls", "--all", "--array", array, "--json"])
        guard result.status == 0 else { throw TestFailure("ls --array failed: \(result.stderr)") }
        return try JSONDecoder.wire.decode([JobView].self, from: Data(result.stdout.utf8))
    }

    @Test func fiftyTasksRunThreeAtATimeEachSeesItsIndexAndTheArrayIsOneLine() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 8, cpus: 16)
        try await cluster.configureCLI()
        let out = cluster.root + "/tasks"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let array = try await cluster.submit(
            ["--array", "0-49%3", "--name", "sweep"],
            [
                "sh", "-c",
                "echo $CORRAL_ARRAY_TASK_ID $CORRAL_ARRAY_TASK_COUNT $CORRAL_ARRAY_JOB_ID > \(out)/task-$CORRAL_ARRAY_TASK_ID;"
                    + " sleep 0.4",
            ]
        )
        #expect(!array.contains("_"), "submit printed the array id: \(array)")
        var most = 0
        var finished = false
        var views: [JobView] = []
        let deadline = Date().addingTimeInterval(150)
        while !finished && Date() < deadline {
            views = try await tasks(cluster, array)
            #expect(views.count == 50)
            most = max(most, views.filter { Self.active.contains($0.state) }.count)
            finished = views.count == 50 && views.allSatisfy { $0.state == "SUCCEEDED" }
            if !finished { try await Task.sleep(for: .milliseconds(150)) }
        }
        #expect(finished, "\(cluster.logs())")
        #expect(most <= 3, "\(most) tasks ran at once with %3 (sampled)")
        // Exactly, from the record: how many tasks held resources at once (allocation to end), whatever the
        // sampling saw on a loaded machine. Never more than 3; and the limit was used.
        var edges: [(Int64, Int)] = []
        for view in views {
            for attempt in view.attempts {
                guard let from = WireTime.parse(attempt.allocatedAt), let to = attempt.endedAt.flatMap(WireTime.parse)
                else { continue }
                edges += [(from.milliseconds, 1), (to.milliseconds, -1)]
            }
        }
        var held = 0
        var mostHeld = 0
        for edge in edges.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            held += edge.1
            mostHeld = max(mostHeld, held)
        }
        #expect(mostHeld <= 3 && mostHeld >= 2, "\(mostHeld) tasks held resources at once with %3")
        for index in 0..<50 {
            let seen = cluster.read(out + "/task-\(index)")
            #expect(seen == "\(index) 50 \(array)", "task \(index) saw '\(seen)'")
        }
        // One line for the whole array in ls, with its counts; --expand lists the tasks.
        let listing = try await cluster.corral(["ls", "--all"])
        #expect(listing.stdout.contains("\(array)_[50]"), "\(listing.stdout)")
        #expect(listing.stdout.contains("50 SUCCEEDED"))
        #expect(!listing.stdout.contains("\(array)_7 "))
        let expanded = try await cluster.corral(["ls", "--all", "--expand"])
        #expect(expanded.stdout.contains("\(array)_7 "))
        let task = try await cluster.job("\(array)_7")
        #expect(task.array?.index == 7 && task.array?.arrayId == array)
        let waited = try await cluster.corral(["wait", array])
        #expect(waited.status == 0 && waited.stderr.contains("50 SUCCEEDED"), "\(waited.stderr)")
        // submit --wait on an array waits for every task and fails when one did.
        let mixed = try await cluster.corral([
            "submit", "--wait", "--array", "0-2", "--", "sh", "-c", "exit $CORRAL_ARRAY_TASK_ID",
        ])
        #expect(mixed.status == 1 && mixed.stderr.contains("1 SUCCEEDED, 2 FAILED"), "\(mixed.stderr)")
        // A job after the array waits for every task; after one task, for that task.
        let after = try await cluster.submit(["--after", array], ["true"])
        _ = try await cluster.waitForState(after, ["SUCCEEDED"], timeout: 30)
        let afterTask = try await cluster.submit(["--after", "\(array)_3"], ["true"])
        _ = try await cluster.waitForState(afterTask, ["SUCCEEDED"], timeout: 30)
    }

    @Test func cancelingTheArrayStopsEveryTaskAndOneTaskAlone() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 8, cpus: 16)
        try await cluster.configureCLI()
        let array = try await cluster.submit(["--array", "0-19%4"], ["sleep", "300"])
        try await waitUntil("four tasks run", timeout: 30) {
            try await tasks(cluster, array).filter { $0.state == "RUNNING" }.count == 4
        }
        // A task waiting on the limit is explained as such, not by the node that "fits" (issue 18).
        let waiting = try await cluster.corral(["explain", "\(array)_10"])
        #expect(
            waiting.stdout.contains("(ArrayLimit)") && waiting.stdout.contains("already run (%4)"),
            "\(waiting.stdout)"
        )
        let one = try await cluster.corral(["cancel", "\(array)_0"])
        #expect(one.status == 0, "\(one.stderr)")
        _ = try await cluster.waitForState("\(array)_0", ["CANCELED"], timeout: 30)
        #expect(try await tasks(cluster, array).filter { $0.state == "CANCELED" }.count == 1)
        let all = try await cluster.corral(["cancel", array])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("canceling array \(array): 19 task(s)"), "\(all.stdout)")
        try await waitUntil("every task is CANCELED", timeout: 30) {
            try await tasks(cluster, array).allSatisfy { $0.state == "CANCELED" }
        }
        // Nothing of the array runs on the node any more: no active job, and no task's process.
        let running = try await cluster.corral(["ls", "--json"])
        #expect(try JSONDecoder.wire.decode([JobView].self, from: Data(running.stdout.utf8)).isEmpty)
        let pids = try await tasks(cluster, array).flatMap(\.attempts).compactMap(\.pid)
        #expect(pids.count >= 4)
        for pid in pids { #expect(!processRuns(pid), "task process \(pid) runs on") }
    }

    @Test func dependenciesAreCheckedAtSubmitAndOtherUsersJobsLookUnknown() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let unknown = try await cluster.corral(["submit", "--after", "nosuchjob", "--", "true"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no job or array 'nosuchjob' of yours"), "\(unknown.stderr)")
        // The admin's job, seen from another user's token: refused with the very same words.
        let admins = try await cluster.submit([], ["true"])
        let token = try await cluster.corral(["tokens", "create", "--user", "mallory", "--json"])
        let secret = try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(token.stdout.utf8)).token
        let other = try await cluster.corral(
            ["submit", "--after", admins, "--", "true"],
            env: ["CORRAL_TOKEN": secret]
        )
        #expect(other.status != 0)
        #expect(other.stderr.contains("no job or array '\(admins)' of yours"), "\(other.stderr)")
        // `tokens create > file` makes a token file: the token alone on stdout, the hint on stderr (issue 18).
        let plain = try await cluster.corral(["tokens", "create", "--user", "pat"])
        #expect(plain.status == 0 && plain.stdout.split(separator: "\n").count == 1, "\(plain.stdout)")
        #expect(plain.stderr.contains("shown once"))
        let file = cluster.root + "/pat.token"
        try plain.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        let configured = try await cluster.corral(
            ["configure", "--endpoint", cluster.endpoint, "--token-file", file],
            env: ["HOME": cluster.root + "/pat-home"]
        )
        #expect(configured.status == 0, "\(configured.stderr)")
        // Bad array specs are refused before anything is sent.
        for bad in ["5-1", "0-10%0", "a-b", "0-20000", "1,,2"] {
            let refused = try await cluster.corral(["submit", "--array", bad, "--", "true"])
            #expect(refused.status == 2, "--array \(bad): \(refused.stderr)")
        }
    }
}
