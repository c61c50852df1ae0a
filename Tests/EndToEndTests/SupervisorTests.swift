import ClusterWire
import Foundation
import Glibc
import Testing

/// The job supervisor (`corral-agent supervise DIR`) on its own: the real binary, real jobs, and the files it
/// shares with the agent written here by hand, as an agent would. No controller and no agent run.
@Suite(.timeLimit(.minutes(2)))
struct SupervisorTests {
    let directory: String

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("supervise-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Writes launch.json for `command` and runs the supervisor to its end. With `whenReady`, what it writes
    /// (a stop request, a lease) comes only once the job has made the file `ready` in its directory, its traps
    /// set: on a loaded machine a stop there from the start could signal the shell before it had set them.
    func supervise(
        _ command: [String],
        timeLimit: Int? = nil,
        grace: Int = 10,
        lease: String? = nil,
        signal: String? = nil,
        whenReady: (() throws -> Void)? = nil
    ) async throws -> (status: Int32, exit: [String: Any]) {
        try Self.writePlan(command, in: directory, timeLimit: timeLimit, grace: grace, signal: signal)
        if let lease { try lease.write(toFile: directory + "/lease", atomically: true, encoding: .utf8) }
        let ready = directory + "/ready"
        try? FileManager.default.removeItem(atPath: ready)
        async let result = offPool {
            try TestCluster.runBlocking(TestCluster.binaries + "/corral-agent", ["supervise", directory], [:])
        }
        if let whenReady {
            do {
                try await waitUntil("the job is ready", timeout: 30) { FileManager.default.fileExists(atPath: ready) }
            } catch {
                try? whenReady()  // so that the supervisor ends all the same
                throw error
            }
            try whenReady()
        }
        let finished = try await result
        let exit = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/exit.json"))) ?? Data("{}".utf8)
        return (finished.status, try JSONSerialization.jsonObject(with: exit) as? [String: Any] ?? [:])
    }

    /// Writes `text` to the file `name` of the record, as the agent does.
    func writeFile(_ name: String, _ text: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    /// A record's launch.json for `command`, as the agent writes it (the job's log in the record too).
    static func writePlan(
        _ command: [String],
        in directory: String,
        timeLimit: Int? = nil,
        grace: Int = 10,
        signal: String? = nil
    ) throws {
        var spec = LaunchSpec(
            allocationId: "job.1",
            jobId: "job",
            attempt: 1,
            name: "",
            user: "test",
            command: command,
            cwd: directory,
            env: [:],
            gpuIndices: [],
            cpus: 1,
            memory: 0,
            image: nil,
            timeLimit: timeLimit
        )
        spec.checkpointSignal = signal
        let plan: [String: Any] = [
            "spec": try JSONSerialization.jsonObject(with: JSONEncoder().encode(spec)),
            "executable": command[0],
            "arguments": command,
            "environment": ["PATH": "/usr/bin:/bin"],
            "cwd": directory,
            "logPath": directory + "/job.log",
            "graceSeconds": grace,
            "leasePath": directory + "/lease",
        ]
        try JSONSerialization.data(withJSONObject: plan).write(to: URL(fileURLWithPath: directory + "/launch.json"))
    }

    @Test func recordsTheExitCodeAndTheJobsPid() async throws {
        let (status, exit) = try await supervise(["/bin/sh", "-c", "echo hello; exit 7"])
        #expect(status == 0)
        #expect(exit["code"] as? Int == 7)
        #expect(exit["stopReason"] == nil)
        #expect((exit["endedAtMs"] as? Int ?? 0) > 1_700_000_000_000)
        #expect(Int32(try String(contentsOfFile: directory + "/job.pid", encoding: .utf8).trimmed) ?? 0 > 1)
        #expect(try String(contentsOfFile: directory + "/job.log", encoding: .utf8) == "hello\n")
    }

    /// Issue 15's checkpoint signal: a preemption sends it first and waits its lead before SIGTERM; a cancel does
    /// not wait; near the time limit it comes that far ahead of the limit's SIGTERM.
    @Test func theCheckpointSignalComesFirstOnAPreemptionAndBeforeTheTimeLimit() async throws {
        // The shell sets its traps, then says it is ready. Each trap notes the time (seconds since boot, read by
        // the shell itself: forking `date` in a trap could take a loaded machine long enough to shift one mark
        // against the other).
        let script = """
            trap 'read t _ < /proc/uptime; echo "USR1 $t" >> marks' USR1
            trap 'read t _ < /proc/uptime; echo "TERM $t" >> marks; exit 143' TERM
            : > ready
            while true; do sleep 0.05; done
            """
        func marks() throws -> [(String, Double)] {
            try String(contentsOfFile: directory + "/marks", encoding: .utf8).split(separator: "\n").map {
                let fields = $0.split(separator: " ")
                return (String(fields[0]), Double(fields[1]) ?? 0)
            }
        }
        let (_, preempted) = try await supervise(["/bin/sh", "-c", script], grace: 5, signal: "USR1@2") {
            try writeFile("stop", "preempt\n")
        }
        #expect(preempted["stopReason"] as? String == "cancel", "exit.json as older agents read it")
        var seen = try marks()
        #expect(seen.map(\.0) == ["USR1", "TERM"], "\(seen)")
        #expect(seen.count == 2 && seen[1].1 - seen[0].1 >= 1.9, "SIGTERM came before the 2 s lead: \(seen)")
        try FileManager.default.removeItem(atPath: directory + "/stop")
        try FileManager.default.removeItem(atPath: directory + "/marks")
        // A cancel does not wait for a checkpoint.
        let (_, canceled) = try await supervise(["/bin/sh", "-c", script], grace: 5, signal: "USR1@30") {
            try writeFile("stop", "cancel\n")
        }
        #expect(canceled["stopReason"] as? String == "cancel")
        #expect(try marks().map(\.0) == ["TERM"])
        try FileManager.default.removeItem(atPath: directory + "/stop")
        try FileManager.default.removeItem(atPath: directory + "/marks")
        // Time limit 5 s, USR1@2: the signal about three seconds in (time enough for a loaded machine's shell to
        // set its traps), SIGTERM at the limit.
        let (_, timedOut) = try await supervise(["/bin/sh", "-c", script], timeLimit: 5, grace: 5, signal: "USR1@2")
        #expect(timedOut["stopReason"] as? String == "timeout")
        seen = try marks()
        #expect(seen.map(\.0) == ["USR1", "TERM"], "\(seen)")
        #expect(seen.count == 2 && seen[1].1 - seen[0].1 >= 1.5, "\(seen)")
    }

    @Test func endsTheJobAtItsTimeLimit() async throws {
        let (_, exit) = try await supervise(["/bin/sleep", "60"], timeLimit: 1)
        #expect(exit["stopReason"] as? String == "timeout")
        #expect(exit["signal"] as? Int == Int(SIGTERM))
    }

    /// A lease renewed long ago (monotonic time 1 ns, lasting 1 ms): the agent is gone, so the job is fenced.
    @Test func fencesTheJobWhenTheAgentsLeaseHasRunOut() async throws {
        let (_, exit) = try await supervise(["/bin/sleep", "60"], lease: "1 1\n")
        #expect(exit["stopReason"] as? String == "fence")
    }

    /// A stop request to a job that ignores SIGTERM and has a child that does too: after the grace period the
    /// whole group is killed, the child included.
    @Test func aStopRequestKillsTheWholeGroupAfterTheGrace() async throws {
        let script = "trap '' TERM; (trap '' TERM; sleep 60) & echo $! > child.pid; : > ready; sleep 60"
        let (_, exit) = try await supervise(["/bin/sh", "-c", script], grace: 1) { try writeFile("stop", "cancel\n") }
        #expect(exit["stopReason"] as? String == "cancel")
        #expect(exit["signal"] as? Int == Int(SIGKILL))
        let child = try #require(Int32(try String(contentsOfFile: directory + "/child.pid", encoding: .utf8).trimmed))
        #expect(child > 1)
        try await waitUntil("the job's child is gone too", timeout: 30) { !processRuns(child) }
    }

    /// A stop already under way with a long grace (a checkpointing job's) still ends by the fence when the
    /// agent's lease runs out meanwhile: the job must be dead before the controller may run it elsewhere.
    @Test func aStopUnderWayStillEndsByTheFence() async throws {
        // Once the job ignores SIGTERM, a cancel, then a 4 s lease renewed now: fencing starts at 4 - 1 (a quarter)
        // - 0.4 (a tenth) = 2.6 s, SIGKILL 1 s later.
        let started = Date()
        let (_, exit) = try await supervise(["/bin/sh", "-c", "trap '' TERM; : > ready; sleep 600"], grace: 600) {
            try writeFile("stop", "cancel\n")
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            try writeFile("lease", "\(Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)) 4000\n")
        }
        #expect(exit["stopReason"] as? String == "cancel")
        #expect(exit["signal"] as? Int == Int(SIGKILL))
        #expect(Date().timeIntervalSince(started) < 30, "killed by the fence, not after the 600 s grace")
    }

    @Test func aProgramThatCannotStartIsALaunchError() async throws {
        let (status, exit) = try await supervise(["/nonexistent/program"])
        #expect(status == 0)
        #expect((exit["launchError"] as? String)?.contains("/nonexistent/program") == true, "\(exit)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/job.pid"))
    }

    @Test func refusesAMissingOrMalformedPlan() async throws {
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: directory + "/launch.json"))
        let result = try await offPool {
            try TestCluster.runBlocking(TestCluster.binaries + "/corral-agent", ["supervise", directory], [:])
        }
        #expect(result.status == 1)
        #expect(result.stderr.contains("launch.json"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/exit.json"))
    }
}
