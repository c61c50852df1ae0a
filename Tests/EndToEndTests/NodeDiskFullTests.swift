import ClusterWire
import Foundation
import Glibc
import TestSupport
import Testing

/// A full disk on a node (issue 18, finding 3): the job's exit code still reaches exit.json, through the room
/// the supervisor reserved before the job started, and without that room the supervisor stays alive, trying
/// again, until there is space; it never ends without a word, which the agent would report as a SIGKILL. The
/// record directory (or the agent's whole state dir) is on a small tmpfs the test mounts, fills to its last
/// page and unmounts, even when it fails.
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: Tmpfs.canMount, "needs root that may mount a tmpfs"))
struct NodeDiskFullTests {
    let base: String
    var disk: String { base + "/disk" }
    var record: String { disk + "/job.1" }
    /// Outside the tmpfs: the job ends once it exists.
    var gate: String { base + "/go" }
    var gatedJob: [String] { ["/bin/sh", "-c", "while [ ! -e '\(gate)' ]; do sleep 0.05; done; exit 3"] }

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("node-disk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base + "/disk", withIntermediateDirectories: true)
    }

    /// Fills the tmpfs at `directory` to its last page; true when not one more byte fits.
    static func fill(_ directory: String) -> Bool {
        Tmpfs.sh("dd if=/dev/zero of='\(directory)/filler' bs=4k 2>/dev/null")
        return Tmpfs.sh("dd if=/dev/zero of='\(directory)/probe' bs=1 count=1 2>/dev/null") != 0
    }

    /// Mounts the tmpfs, writes the record's plan and starts the supervisor on it (its stderr outside the
    /// tmpfs), once the job runs.
    func startSupervisor() async throws -> Process {
        #expect(Tmpfs.mount(at: disk, size: "1m"))
        try FileManager.default.createDirectory(atPath: record, withIntermediateDirectories: true)
        try SupervisorTests.writePlan(gatedJob, in: record)
        _ = FileManager.default.createFile(atPath: base + "/supervisor.err", contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestCluster.binaries + "/corral-agent")
        process.arguments = ["supervise", record]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + "/supervisor.err"))
        try process.run()
        try await waitUntil("the supervisor starts the job", timeout: 30) {
            FileManager.default.fileExists(atPath: record + "/job.pid")
        }
        return process
    }

    func stop(_ process: Process) {
        if let pid = Int32((try? String(contentsOfFile: record + "/job.pid", encoding: .utf8))?.trimmed ?? ""), pid > 1
        {
            kill(-pid, SIGKILL)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        Tmpfs.unmount(disk)
        try? FileManager.default.removeItem(atPath: base)
    }

    func exitRecord() -> [String: Any] {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: record + "/exit.json"))) ?? Data("{}".utf8)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    @Test func theExitCodeIsRecordedOnAFullDisk() async throws {
        let supervisor = try await startSupervisor()
        defer { stop(supervisor) }
        #expect(Self.fill(disk), "the disk is not full")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        try await waitUntil("the supervisor ends", timeout: 30) { !supervisor.isRunning }
        #expect(exitRecord()["code"] as? Int == 3, "\(exitRecord())")
        #expect(!FileManager.default.fileExists(atPath: record + "/exit.reserve"))
    }

    /// Its reserve gone too: the supervisor stays (so the agent sees the job's supervisor alive, not dead),
    /// says why, and writes the exit code once space is back.
    @Test func withoutRoomTheSupervisorWaitsForSpace() async throws {
        let supervisor = try await startSupervisor()
        defer { stop(supervisor) }
        unlink(record + "/exit.reserve")
        #expect(Self.fill(disk), "the disk is not full")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        // It says why once it has tried (waited for: a fixed 2.5 s can pass on a loaded machine before the job
        // even sees the gate), and stays.
        var said = ""
        try await waitUntil("the supervisor says it cannot write exit.json", timeout: 30) {
            said = (try? String(contentsOfFile: base + "/supervisor.err", encoding: .utf8)) ?? ""
            return said.contains("exit.json") && said.contains("No space left")
        }
        try await Task.sleep(for: .seconds(1))
        #expect(supervisor.isRunning, "the supervisor gave up: \(said)")
        #expect(!FileManager.default.fileExists(atPath: record + "/exit.json"))
        unlink(disk + "/filler")
        try await waitUntil("the supervisor ends", timeout: 30) { !supervisor.isRunning }
        #expect(exitRecord()["code"] as? Int == 3, "\(exitRecord())")
    }

    /// The whole path: the agent's state dir full while the job runs, and the controller still gets exit code
    /// 3, not "killed, possibly out of memory".
    @Test func theControllerGetsTheExitCodeFromANodeWithAFullDisk() async throws {
        let cluster = try TestCluster()
        let state = cluster.stateDir(agent: "node")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        #expect(Tmpfs.mount(at: state, size: "2m"))
        defer {
            for agent in cluster.agents.values where agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
            cluster.killSupervisors()
            cluster.killController()
            Tmpfs.unmount(state)
            try? FileManager.default.removeItem(atPath: base)
        }
        try await cluster.startController()
        try await cluster.configureCLI()
        try await cluster.startAgent("node", gpus: 1)
        let gate = cluster.root + "/go"
        let id = try await cluster.submit(
            ["--gpus", "1"],
            [
                "sh", "-c",
                "i=0; while [ $i -lt 100 ]; do echo \"line $i\"; i=$((i+1)); done; "
                    + "while [ ! -e '\(gate)' ]; do sleep 0.05; done; exit 3",
            ]
        )
        _ = try await cluster.waitForState(id, ["RUNNING"])
        let expected = (0..<100).map { "line \($0)\n" }.joined()
        try await waitUntil("the job's lines are on the node", timeout: 60) {
            (try await cluster.corral(["logs", id])).stdout == expected
        }
        #expect(Self.fill(state), "the disk is not full")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"])
        #expect(done.exitCode == 3, "\(done)\n\(cluster.logs())")
        #expect(done.attempts.last?.signal == nil)
        // What the job wrote before the disk filled is all there, once.
        let log = try await cluster.corral(["logs", id]).stdout
        #expect(log == expected)
        Chaos.report(
            "node-disk-full",
            [
                "exitCodesKept": done.exitCode == 3 ? 1 : 0, "logBytesExpected": expected.utf8.count,
                "logBytesStored": log.utf8.count, "attempts": done.attempts.count,
            ]
        )
    }
}
