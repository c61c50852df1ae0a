import ClusterWire
import Foundation
import Testing

/// The fault the issue names (issue 16): the controller is killed between storing a submission and answering
/// it. `corral submit` sends an `Idempotency-Key` and, its connection dropped, sends the same key again while
/// the controller restarts: it prints the job its first try made, and there is one job, not two.
/// `CORRAL_TEST_EXIT_AFTER_COMMIT=submit` makes the first controller exit right after the commit.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct IdempotentSubmitTests {
    @Test func aSubmissionRetriedAfterTheControllerDiedBetweenCommitAndAnswerMakesOneJob() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()
        // Again, now with the hook: the next batch of submissions is stored, then the process exits.
        cluster.killController()
        cluster.daemonEnvironment["CORRAL_TEST_EXIT_AFTER_COMMIT"] = "submit"
        try await cluster.startController()
        cluster.daemonEnvironment["CORRAL_TEST_EXIT_AFTER_COMMIT"] = nil
        let submitting = Task { try await cluster.corral(["submit", "--name", "once", "--", "true"]) }
        // Generous: CI runs this beside every other end-to-end suite, and once took 21 s to get this far.
        do {
            try await waitUntil("the controller exits after the commit", timeout: 60) { !cluster.controllerRuns }
        } catch {
            Issue.record("the controller did not exit after the commit\n\(cluster.logs())")
            throw error
        }
        try await cluster.startController()
        let result = try await submitting.value
        #expect(result.status == 0, "\(result.stderr)")
        let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let jobs = try await cluster.jobs()
        #expect(jobs.map(\.id) == [id], "one job, the one corral submit printed: \(jobs.map(\.id))")
        #expect(jobs.first?.name == "once")
    }
}
