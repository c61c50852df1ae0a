import ClusterWire
import Foundation
import HTTPKit
import Testing

/// Job control with the real binaries (issue 17): hold and release (an admin's hold over the owner's), requeue
/// of a running job (retries untouched, runs again; `--hold`), update of the time limit and priority with its
/// refusals, the queue's `max_priority` at submission, and another user's job. No GPU here: the agent declares
/// them (see WalkingSkeletonTests).
@Suite(.serialized, .timeLimit(.minutes(4)))
struct JobControlEndToEndTests {
    func aliceToken(_ cluster: TestCluster) async throws -> [String: String] {
        let created = try await cluster.corral(["tokens", "create", "--user", "alice", "--json"])
        return [
            "CORRAL_TOKEN": try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        ]
    }

    func submit(_ cluster: TestCluster, _ env: [String: String], _ arguments: [String]) async throws -> String {
        let result = try await cluster.corral(["submit"] + arguments, env: env)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func holdAndReleaseAndAnAdminsHold() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 2)
        try await cluster.configureCLI()
        let alice = try await aliceToken(cluster)
        // A blocker holds both GPUs, so jobs behind it stay QUEUED for as long as the test needs.
        let blocker = try await cluster.submit(["--gpus", "2"], ["sleep", "300"])
        _ = try await cluster.waitForState(blocker, ["RUNNING"])
        let waiting = try await submit(cluster, alice, ["--gpus", "1", "--", "true"])
        let held1 = try await cluster.corral(["hold", waiting], env: alice)
        #expect(held1.status == 0 && held1.stdout.contains("held \(waiting)"), "\(held1.stderr)")
        var view = try await cluster.job(waiting)
        #expect(
            view.state == "QUEUED" && view.reason == "Held" && view.hold?.by == "alice" && view.hold?.admin == false
        )
        let explain = try await cluster.corral(["explain", waiting])
        #expect(explain.stdout.contains("held by alice"), "\(explain.stdout)")
        // The admin's hold over alice's: alice may no longer release it.
        #expect(try await cluster.corral(["hold", waiting]).status == 0)
        #expect(try await cluster.job(waiting).hold?.admin == true)
        let refused = try await cluster.corral(["release", waiting], env: alice)
        #expect(refused.status == 1 && refused.stderr.contains("only an admin can release it"), "\(refused.stderr)")
        // Another user's job is unknown to bob, for every control command.
        let bob = try await cluster.corral(["tokens", "create", "--user", "bob", "--json"])
        let bobEnv = [
            "CORRAL_TOKEN": try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(bob.stdout.utf8)).token
        ]
        for command in [["hold"], ["release"], ["requeue"], ["update", "--priority", "-1"]] {
            let result = try await cluster.corral(command + [waiting], env: bobEnv)
            #expect(result.status == 1 && result.stderr.contains("no job"), "\(command): \(result.stderr)")
        }
        // Slurm's scontrol on a job behind the blocker: hold, update, release (silent on success, as Slurm).
        let slurm = try await submit(cluster, alice, ["--gpus", "2", "--", "true"])
        let shown = try await cluster.slurm("scontrol", ["show", "job", slurm], env: alice).stdout
        let id = String(shown.split(separator: " ").first { $0.hasPrefix("JobId=") }?.dropFirst(6) ?? "")
        let slurmHold = try await cluster.slurm("scontrol", ["hold", id], env: alice)
        #expect(slurmHold.status == 0 && slurmHold.stdout.isEmpty, "\(slurmHold.stderr)")
        let slurmUpdate = try await cluster.slurm("scontrol", ["update", "JobId=\(id)", "Priority=-2"], env: alice)
        #expect(slurmUpdate.status == 0 && slurmUpdate.stdout.isEmpty, "\(slurmUpdate.stderr)")
        let slurmView = try await cluster.job(slurm)
        #expect(slurmView.priority == -2 && slurmView.reason == "Held", "\(slurmView)")
        // One of two ids is no job: that one is reported, the other released.
        let partly = try await cluster.slurm("scontrol", ["release", "\(id),1"], env: alice)
        #expect(partly.status == 1 && partly.stderr.contains("scontrol: error: job 1:"), "\(partly.stderr)")
        #expect(try await cluster.job(slurm).hold == nil)
        // The blocker ends and a later job runs past the held one, which waits on.
        _ = try await cluster.corral(["cancel", blocker])
        let later = try await submit(cluster, alice, ["--gpus", "2", "--", "true"])
        #expect(try await cluster.waitForState(later, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
        #expect(try await cluster.waitForState(slurm, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
        view = try await cluster.job(waiting)
        #expect(view.state == "QUEUED" && view.reason == "Held")
        // Released by an admin, it runs.
        let released = try await cluster.corral(["release", waiting])
        #expect(released.status == 0, "\(released.stderr)")
        #expect(try await cluster.waitForState(waiting, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
        let again = try await cluster.corral(["release", waiting], env: alice)
        #expect(again.status == 1 && again.stderr.contains("already finished"), "\(again.stderr)")
        let events = try await cluster.events(waiting).map(\.reason)
        #expect(events.contains("held by alice") && events.contains("held by admin (admin)"), "\(events)")
        #expect(events.contains("released by admin"), "\(events)")
    }

    @Test func requeueStopsARunningJobWhichRunsAgainWithItsRetriesUntouched() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let alice = try await aliceToken(cluster)
        let job = try await submit(cluster, alice, ["--gpus", "1", "--retries", "0", "--", "sleep", "300"])
        _ = try await cluster.waitForState(job, ["RUNNING"])
        let queued = try await submit(cluster, alice, ["--gpus", "1", "--", "true"])
        let early = try await cluster.corral(["requeue", queued], env: alice)
        #expect(early.status == 1 && early.stderr.contains("only a job on a node"), "\(early.stderr)")
        // Submitted held (--hold), a job waits even with the GPU free later; released, it runs.
        let submittedHeld = try await submit(cluster, alice, ["--hold", "--gpus", "1", "--", "true"])
        let heldView = try await cluster.job(submittedHeld)
        #expect(heldView.reason == "Held" && heldView.hold?.by == "alice", "\(heldView)")
        let requeue = try await cluster.corral(["requeue", job], env: alice)
        #expect(requeue.status == 0 && requeue.stdout.contains(job), "\(requeue.stderr)")
        // It stops, goes back to the queue at its place (ahead of the later job), and runs again: attempt 2.
        let second = try await cluster.waitForState(job, ["RUNNING"], timeout: 60, attempt: 2)
        #expect(second.attempts.first?.state == "QUEUED", "\(second.attempts)")
        let events = try await cluster.events(job).map(\.reason)
        #expect(events.contains("requeued by alice: back in the queue"), "\(events)")
        #expect(!events.contains { $0.contains("retry") }, "a requeue spends no retry: \(events)")
        // Requeued with --hold, it waits held once back.
        let hold = try await cluster.corral(["requeue", "--hold", job], env: alice)
        #expect(hold.status == 0, "\(hold.stderr)")
        try await waitUntil("the job is back, held", timeout: 60) {
            let view = try await cluster.job(job)
            return view.state == "QUEUED" && view.reason == "Held"
        }
        // Meanwhile the later job takes the GPU.
        #expect(try await cluster.waitForState(queued, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED")
        #expect(try await cluster.job(submittedHeld).state == "QUEUED")
        _ = try await cluster.corral(["release", submittedHeld], env: alice)
        #expect(
            try await cluster.waitForState(submittedHeld, ["SUCCEEDED", "FAILED"], timeout: 60).state == "SUCCEEDED"
        )
        _ = try await cluster.corral(["cancel", job])
    }

    @Test func updateAndItsRefusalsAndTheQueuesMaxPriority() async throws {
        let cluster = try TestCluster()
        let config = cluster.root + "/controller.toml"
        try """
        [queues.default]
        max_priority = 10
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try await cluster.startController(extra: ["--config", config])
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let alice = try await aliceToken(cluster)
        // Over the queue's maximum at submission: refused for alice, allowed for an admin.
        let high = try await cluster.corral(["submit", "--priority", "11", "--", "true"], env: alice)
        #expect(
            high.status == 1 && high.stderr.contains("above queue default's maximum for users (10)"),
            "\(high.stderr)"
        )
        let admin = try await cluster.corral(["submit", "--priority", "5000", "--", "true"])
        #expect(admin.status == 0, "\(admin.stderr)")
        let job = try await submit(cluster, alice, ["--gpus", "1", "--time-limit", "1h", "--", "sleep", "300"])
        _ = try await cluster.waitForState(job, ["RUNNING"])
        let waiting = try await submit(cluster, alice, ["--gpus", "1", "--time-limit", "1h", "--", "true"])
        _ = try await cluster.corral(["hold", waiting], env: alice)
        func update(_ arguments: [String], _ env: [String: String] = [:]) async throws -> TestCluster.Result {
            try await cluster.corral(["update", waiting] + arguments, env: env)
        }
        #expect(try await update(["--time-limit", "30m"], alice).status == 0)
        #expect(try await cluster.job(waiting).timeLimit == 1800)
        let raise = try await update(["--time-limit", "2h"], alice)
        #expect(raise.status == 1 && raise.stderr.contains("only an admin can raise"), "\(raise.stderr)")
        let priority = try await update(["--priority", "11"], alice)
        #expect(priority.status == 1 && priority.stderr.contains("maximum for users (10)"), "\(priority.stderr)")
        #expect(try await update(["--priority", "10"], alice).status == 0)
        #expect(try await update(["--priority", "-3"], alice).status == 0)
        #expect(try await update(["--priority", "9000", "--time-limit", "2h"]).status == 0)
        var view = try await cluster.job(waiting)
        #expect(view.priority == 9000 && view.timeLimit == 7200)
        for bad in [[], ["--priority", "high"], ["--time-limit", "soon"], ["--priority"]] {
            let result = try await update(bad)
            #expect(result.status == 2, "\(bad): \(result.stderr)")
        }
        let range = try await update(["--priority", "20000"])
        #expect(range.status == 1 && range.stderr.contains("between -10000 and 10000"), "\(range.stderr)")
        // The API refuses unknown fields and an empty change.
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.adminToken)
        )
        for body in [#"{"timelimit":60}"#, "{}", #"{"priority":"1"}"#, "[", #"{"priority":1.5}"#] {
            let response = try await client.execute(.patch, "/v1/jobs/\(waiting)", body: Array(body.utf8))
            #expect(response.status == 400, "\(body): \(response.status)")
        }
        view = try await cluster.job(waiting)
        #expect(view.priority == 9000 && view.timeLimit == 7200, "a refused update changed nothing")
        // A running job's limit: raising is refused even for an admin; lowering it stops the job (TIMEOUT).
        let running = try await cluster.corral(["update", job, "--time-limit", "2h"])
        #expect(running.status == 1 && running.stderr.contains("can only be lowered"), "\(running.stderr)")
        #expect(try await cluster.corral(["update", job, "--time-limit", "1"], env: alice).status == 0)
        let ended = try await cluster.waitForState(job, ["FAILED", "SUCCEEDED", "CANCELED"], timeout: 60)
        #expect(ended.state == "FAILED" && ended.exitReason == "TIMEOUT", "\(ended.state) \(ended.exitReason ?? "")")
        _ = try await cluster.corral(["cancel", waiting])
    }
}
