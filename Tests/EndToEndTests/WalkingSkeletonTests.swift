import ClusterWire
import Foundation
import Glibc
import Testing

/// One job end to end through all three real binaries (issue: walking skeleton). There is no GPU on the test
/// machine: each agent declares 2 GPUs in its agent.toml, as an operator does for nodes where detection is not
/// possible, and the jobs check the CUDA_VISIBLE_DEVICES they were given instead of touching a GPU.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct WalkingSkeletonTests {
    @Test func jobsRunOnDeclaredGPUsAndSurviveAControllerRestart() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node-a", gpus: 2)
        try await cluster.startAgent("node-b", gpus: 2)
        try await cluster.configureCLI()
        let out = cluster.root + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        // Each job records the GPUs it was given, its pid, and when it started and ended (ns).
        let script = """
            echo "$CUDA_VISIBLE_DEVICES $$ $(date +%s%N)" > "\(out)/$CORRAL_JOB_ID.start"; sleep 1;
            date +%s%N > "\(out)/$CORRAL_JOB_ID.end"
            """
        let requests = [2, 1, 1, 2]
        var ids: [String] = []
        for (index, gpus) in requests.enumerated() {
            ids.append(try await cluster.submit(["--gpus", "\(gpus)", "--name", "job\(index)"], ["sh", "-c", script]))
        }
        let failing = try await cluster.submit(["--gpus", "1"], ["sh", "-c", "exit 3"])
        let sleeper = try await cluster.submit(["--gpus", "1", "--name", "sleeper"], ["sleep", "1000"])

        var finished: [JobView] = []
        for id in ids {
            finished.append(try await cluster.waitForState(id, ["SUCCEEDED", "FAILED", "CANCELED"], timeout: 60))
        }
        for job in finished {
            #expect(job.state == "SUCCEEDED", "job \(job.id): \(job.state) \(job.message ?? "")")
            #expect(job.exitCode == 0)
            #expect(job.gpuIndices.count == job.gpus)
            // The job saw exactly the GPUs it was allocated.
            let start = cluster.read("\(out)/\(job.id).start").split(separator: " ")
            #expect(start.count == 3)
            #expect(String(start.first ?? "") == job.gpuIndices.map(String.init).joined(separator: ","))
        }
        // No GPU was held by two jobs at once.
        struct Span {
            let node: String
            let gpus: Set<Int>
            let start: Int
            let end: Int
        }
        let spans = finished.map { job in
            Span(
                node: job.node ?? "",
                gpus: Set(job.gpuIndices),
                start: Int(cluster.read("\(out)/\(job.id).start").split(separator: " ").last ?? "") ?? 0,
                end: Int(cluster.read("\(out)/\(job.id).end")) ?? 0
            )
        }
        for (i, a) in spans.enumerated() {
            #expect(a.start > 0 && a.end > a.start)
            for b in spans[(i + 1)...] where a.node == b.node && !a.gpus.isDisjoint(with: b.gpus) {
                #expect(
                    a.end <= b.start || b.end <= a.start,
                    "two jobs held GPU(s) \(a.gpus.intersection(b.gpus)) at once"
                )
            }
        }

        // A job that exits 3 is FAILED with exit code 3.
        let failed = try await cluster.waitForState(failing, ["SUCCEEDED", "FAILED"])
        #expect(failed.state == "FAILED")
        #expect(failed.exitCode == 3)

        // A canceled `sleep 1000` ends CANCELED and its process group is gone.
        let running = try await cluster.waitForState(sleeper, ["RUNNING"])
        let pid = try #require(running.attempts.last?.pid)
        #expect(kill(-pid, 0) == 0, "the job's process group should exist while it runs")
        let cancel = try await cluster.corral(["cancel", sleeper])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(cancel.stdout.contains("canceling \(sleeper): stopping its processes"), "\(cancel.stdout)")
        #expect(try await cluster.waitForState(sleeper, ["CANCELED"]).state == "CANCELED")
        try await waitUntil("the canceled job's process group is gone", timeout: 30) {
            kill(-pid, 0) != 0 && errno == ESRCH
        }

        // kill -9 the controller and start it again on the same data dir: every job and state is still there.
        let before = try await cluster.jobs().map { "\($0.id) \($0.state) \($0.exitCode.map(String.init) ?? "-")" }
            .sorted()
        #expect(before.count == ids.count + 2)
        cluster.killController()
        try await cluster.startController()
        let after = try await cluster.jobs().map { "\($0.id) \($0.state) \($0.exitCode.map(String.init) ?? "-")" }
            .sorted()
        #expect(after == before)

        // The cluster still works after the restart: the agents reconnect and run a new job.
        let again = try await cluster.submit(["--gpus", "2"], ["true"])
        #expect(try await cluster.waitForState(again, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
    }

    @Test func readCommandsPrintTablesAndJSON() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("solo", gpus: 2)
        try await cluster.configureCLI()
        let id = try await cluster.submit(["--gpus", "1", "--name", "hello"], ["echo", "hello"])
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED")
        #expect(done.node == "solo")
        #expect(done.gpuIndices.count == 1)

        // Without --all only active jobs are listed; an empty list says how to see the rest.
        let active = try await cluster.corral(["ls"])
        #expect(active.status == 0)
        #expect(active.stdout.contains("corral ls --all"))
        let table = try await cluster.corral(["ls", "--all"])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ID") == true)
        #expect(lines.contains { $0.hasPrefix(id) && $0.contains("SUCCEEDED") && $0.contains("hello") })
        // Columns line up: every header starts where its column starts in each row.
        let header = try #require(lines.first)
        let stateColumn = try #require(header.range(of: "STATE")).lowerBound.utf16Offset(in: header)
        for line in lines.dropFirst() {
            let index = line.index(line.startIndex, offsetBy: stateColumn)
            #expect(line[index...].hasPrefix("SUCCEEDED"), "misaligned row: \(line)")
        }
        let show = try await cluster.corral(["show", id])
        #expect(show.stdout.contains("state:"))
        #expect(show.stdout.contains("QUEUED     ALLOCATED") || show.stdout.contains("ALLOCATED"))
        let nodes = try await cluster.corral(["nodes", "--json"])
        let views = try JSONDecoder.wire.decode([NodeView].self, from: Data(nodes.stdout.utf8))
        #expect(views.map(\.id) == ["solo"])
        #expect(views.first?.gpus.count == 2)
        // A unique prefix finds the job too, and so does a unique end of its id (ids are made in order: jobs
        // submitted together differ in their last letters), with the CLI as through the API.
        #expect(try await cluster.job(String(id.prefix(6))).id == id)
        // (Four letters may all be digits: a word that names no row of the last listing is an id's end then.)
        #expect(try await cluster.job(String(id.suffix(4))).id == id)
        let byEnd = try await cluster.corral(["show", String(id.suffix(5))])
        #expect(byEnd.status == 0 && byEnd.stdout.contains(id), "\(byEnd.stderr)")
    }
}

/// The example tool (Examples/submit-and-wait) drives a real cluster through the CorralClient library.
/// `just qa` builds it before the tests; a plain `swift test` without it skips this test.
@Suite(.timeLimit(.minutes(2)))
struct ExampleToolTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Examples/submit-and-wait/.build/debug/submit-and-wait").standardized.path

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: example), "run `just example` first"))
    func theExampleSubmitsAndWaits() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("example-node", gpus: 1)
        let env = ["CORRAL_ENDPOINT": cluster.endpoint, "CORRAL_TOKEN": cluster.adminToken]
        let ok = try await offPool { [environment = cluster.environment(env)] in
            try TestCluster.runBlocking(Self.example, ["--gpus", "1", "--", "sh", "-c", "exit 0"], environment)
        }
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("SUCCEEDED on example-node GPUs [0]"))
        let failing = try await offPool { [environment = cluster.environment(env)] in
            try TestCluster.runBlocking(Self.example, ["--", "sh", "-c", "exit 4"], environment)
        }
        #expect(failing.status == 4)
        #expect(failing.stdout.contains("FAILED"))
    }
}
