import ClusterWire
import Foundation
import Glibc
import Testing

/// The fault suite's clock jump (issue 18): the controller's system clock steps an hour forward, then an hour
/// back, while jobs run. The step is injected into the controller process alone (CORRAL_TEST_CLOCK_SKEW_FILE,
/// read by `SkewedClock`): stepping the machine's clock would disturb everything else running here. Nothing
/// may be judged lost or run again: node timeouts and leases are intervals, and the controller measures them
/// with the monotonic clock (`SteadyClock`).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ClockJumpChaosTests {
    /// Starts the controller as `TestCluster.startController` does, with the skew file in its environment only.
    func startSkewedController(_ cluster: TestCluster, skewFile: String, extra: [String]) async throws {
        let endpointFile = cluster.dataDir + "/endpoint"
        let log = cluster.root + "/controller.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestCluster.binaries + "/corral-controller")
        process.arguments =
            ["--data-dir", cluster.dataDir, "--listen", "127.0.0.1:0", "--heartbeat-interval", "0.5"]
            + TestCluster.trustedTeam + extra
        process.environment = cluster.environment(["CORRAL_TEST_CLOCK_SKEW_FILE": skewFile])
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        cluster.controller = process
        try await waitUntil("the controller writes its endpoint", timeout: 60) {
            FileManager.default.fileExists(atPath: endpointFile)
        }
        cluster.port = Int(cluster.read(endpointFile).split(separator: ":").last ?? "") ?? 0
    }

    @Test func aClockStepOnTheControllerLosesNothingAndRunsNothingTwice() async throws {
        let count = Chaos.size(small: 2, full: 6)
        let cluster = try TestCluster()
        let skew = cluster.root + "/clock-skew-ms"
        try "0\n".write(toFile: skew, atomically: true, encoding: .utf8)
        try await startSkewedController(
            cluster,
            skewFile: skew,
            extra: ["--node-timeout", "2", "--allocation-lease", "4", "--launch-lease", "3"]
        )
        try await cluster.startAgent("node", gpus: 0, cpus: 8)
        try await cluster.configureCLI()
        let marks = cluster.root + "/marks"
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        var ids: [String] = []
        // The jobs tick until the clock is back (the file `go`): a fixed 10 s could end, on a loaded machine,
        // before the test saw every job run, or before the step.
        let gate = marks + "/go"
        for _ in 0..<count {
            // A time limit of 30 minutes: an hour's step must not end them as overdue.
            let script = RunMarkers.script(directory: marks, ticks: 10, gate: gate)
            ids.append(try await cluster.submit(["--cpus", "1", "--time-limit", "30m"], ["sh", "-c", script]))
        }
        for id in ids { _ = try await cluster.waitForState(id, ["RUNNING"], timeout: 60) }
        // An hour forward, for longer than the node timeout and the lease; then an hour back.
        try "3600000\n".write(toFile: skew, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(5))
        try "-3600000\n".write(toFile: skew, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(3))
        try "0\n".write(toFile: skew, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: gate, contents: nil)

        var succeeded = 0
        var extraAttempts = 0
        var overlaps = 0
        for id in ids {
            let job = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED", "LOST"], timeout: 90)
            if job.state == "SUCCEEDED" { succeeded += 1 }
            extraAttempts += job.attempts.count - 1
            overlaps += RunMarkers.overlaps(directory: marks, job: id)
        }
        let log = cluster.read(cluster.root + "/controller.log")
        let nodeLost = log.contains("node node lost") || log.contains("node node is lost")
        Chaos.report(
            "clock-jump",
            [
                "jobs": count, "succeeded": succeeded, "extraAttempts": extraAttempts, "overlaps": overlaps,
                "nodeLost": nodeLost ? 1 : 0,
            ]
        )
        #expect(succeeded == count && extraAttempts == 0 && overlaps == 0, "\(log.suffix(2000))")
        #expect(!nodeLost)
        // The step was seen (the hook works) and said.
        #expect(log.contains("the system clock stepped"))
    }
}
