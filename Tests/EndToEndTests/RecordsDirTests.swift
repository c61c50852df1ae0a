import ClusterWire
import Foundation
import Glibc
import Testing

/// `records_dir` (issue 16) with the real binaries: the records live there (STATE_DIR/jobs links to it), and a
/// job survives a kill -9 of its agent as it does with records in the state directory.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RecordsDirTests {
    @Test func recordsInRecordsDirOutliveTheAgent() async throws {
        let cluster = try TestCluster()
        let records = cluster.root + "/run-corral-agent"
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1, settings: "records_dir = \"\(records)\"")
        try await cluster.configureCLI()
        let gate = cluster.root + "/gate"
        let job = try await cluster.submit(
            ["--gpus", "1"],
            ["sh", "-c", "while [ ! -e \(gate) ]; do sleep 0.05; done; echo done; exit 5"]
        )
        let pid = try #require(try await cluster.waitForState(job, ["RUNNING"]).attempts.last?.pid)
        let jobs = cluster.stateDir(agent: "node") + "/jobs"
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: jobs)) == records)
        #expect(try FileManager.default.contentsOfDirectory(atPath: records).count == 1, "the record is there")
        try await cluster.restartAgent("node")  // kill -9, then start again
        #expect(processGroupRuns(pid))
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let done = try await cluster.waitForState(job, ["SUCCEEDED", "FAILED"], timeout: 30)
        #expect(done.exitCode == 5 && done.attempts.count == 1 && done.attempts.last?.pid == pid, "\(cluster.logs())")
        #expect(try await cluster.corral(["logs", job]).stdout == "done\n")
        try await waitUntil("the record goes once the controller has the exit", timeout: 30) {
            (try? FileManager.default.contentsOfDirectory(atPath: records))?.isEmpty == true
        }
    }
}
