import ClusterCore
import Foundation
import Testing

@testable import ControllerKit

@Suite struct ControllerConfigurationTests {
    @Test func flagsSetTheirValues() throws {
        let configuration = try ControllerConfiguration.parse([
            "--data-dir", "/srv/corral", "--listen", "0.0.0.0:9000", "--node-timeout", "12", "--launch-lease=3.5",
            "--heartbeat-interval", "0.5", "--config", "/dev/null",
        ])
        #expect(configuration.dataDir == "/srv/corral")
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9000)
        #expect(configuration.nodeTimeout == .seconds(12))
        #expect(configuration.launchLease == .milliseconds(3500))
        #expect(configuration.heartbeatInterval == .milliseconds(500))
        #expect(configuration.adminTokenPath == "/srv/corral/admin.token")
    }

    @Test func flagsOverrideTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID().uuidString).toml").path
        try "listen = \"127.0.0.1:7000\"\ndata_dir = \"/a\"\nnode_timeout = 9\n".write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        let configuration = try ControllerConfiguration.parse(["--config", path, "--data-dir", "/b"])
        #expect(configuration.port == 7000)
        #expect(configuration.dataDir == "/b")
        #expect(configuration.nodeTimeout == .seconds(9))
    }

    @Test(arguments: [
        ["--listen", "8700"], ["--listen", ":8700"], ["--listen", "host:99999"], ["--listen", "host:http"],
        ["--data-dir", "relative"], ["--node-timeout", "0"], ["--node-timeout", "-5"], ["--node-timeout", "soon"],
        ["--bogus"], ["--listen"], ["--config", "/nonexistent/controller.toml"],
        ["--finished-jobs-in-memory", "-1"], ["--finished-jobs-in-memory", "10000001"],
        ["--finished-jobs-in-memory", "many"], ["--finished-jobs-in-memory", ""], ["--finished-jobs-in-memory"],
    ])
    func badFlagsAreUsageErrors(arguments: [String]) {
        #expect(throws: ConfigurationError.self) { try ControllerConfiguration.parse(arguments) }
    }

    /// Issue 16: how many finished jobs memory keeps, from the file or the flag (the flag wins); 0 is allowed.
    @Test func finishedJobsInMemoryComesFromTheFileOrTheFlag() throws {
        #expect(try ControllerConfiguration.parse(["--config", "/dev/null"]).finishedJobsInMemory == 10_000)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID().uuidString).toml").path
        try "finished_jobs_in_memory = 250\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try ControllerConfiguration.parse(["--config", path]).finishedJobsInMemory == 250)
        let flagged = try ControllerConfiguration.parse(["--config", path, "--finished-jobs-in-memory", "0"])
        #expect(flagged.finishedJobsInMemory == 0)
        try "finished_jobs_in_memory = \"lots\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ControllerConfiguration.parse(["--config", path]) }
    }

    @Test func unknownFileSettingsAreRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID().uuidString).toml").path
        try "listen = \"127.0.0.1:7000\"\nlisten_port = 5\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ControllerConfiguration.parse(["--config", path]) }
    }

    /// Issue 15: shortest-first is the default policy; fair-share (the one before) stays selectable, by the file or
    /// the flag; the preemption settings are read with the queues whatever their order in the file.
    @Test func thePolicyIsShortestFirstUnlessTheFileOrTheFlagSaysOtherwise() throws {
        let standard = try ControllerConfiguration.parse(["--config", "/dev/null"])
        #expect(standard.policy.ordering == .shortestFirst && standard.policy.placement == .endTime)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("p-\(UUID().uuidString).toml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        policy = "fair-share"
        preemption_min_runtime = 90
        [queues.batch]
        preemptible = true
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try ControllerConfiguration.parse(["--config", path])
        #expect(file.policy.ordering == .fairShare && file.policy.placement == .bestFit)
        #expect(file.policy.preemptionMinRuntime == 90 && file.policy.queue(named: "batch").preemptible)
        let flag = try ControllerConfiguration.parse(["--config", path, "--policy", "shortest-first"])
        #expect(flag.policy.ordering == .shortestFirst)
        #expect(throws: ConfigurationError.self) {
            try ControllerConfiguration.parse(["--config", "/dev/null", "--policy", "lifo"])
        }
        try "preemption_min_runtime = -1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ControllerConfiguration.parse(["--config", path]) }
        try "[queues.batch]\npreemptible = \"yes\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ControllerConfiguration.parse(["--config", path]) }
    }

    /// Issue 17's settings: the idle-GPU rule and a queue's max_priority and idle_cancel_after, read and refused.
    @Test func theIdleRuleAndQueueLimitsAreReadAndBadValuesRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("i-\(UUID().uuidString).toml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        idle_gpu_threshold = 2.5
        idle_gpu_window = 600
        [queues.batch]
        max_priority = 50
        idle_cancel_after = 900
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try ControllerConfiguration.parse(["--config", path])
        #expect(file.idleGPUs.threshold == 2.5 && file.idleGPUs.window == .seconds(600))
        #expect(
            file.policy.queue(named: "batch").maxPriority == 50
                && file.policy.queue(named: "batch").idleCancelAfter == 900
        )
        #expect(file.policy.queue(named: "default").maxPriority == 0)
        // A sixth of the window, never under the heartbeat interval, never over 30 s.
        #expect(file.utilizationBucket == .seconds(30))
        for bad in [
            "idle_gpu_threshold = 101", "idle_gpu_threshold = -1", "idle_gpu_threshold = \"5\"", "idle_gpu_window = 0",
            "idle_gpu_window = 86401", "idle_gpu_window = 1.5", "[queues.q]\nmax_priority = 10001",
            "[queues.q]\nmax_priority = \"high\"", "[queues.q]\nidle_cancel_after = -5",
            "[queues.q]\nidle_cancel_after = 604801",
        ] {
            try (bad + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try ControllerConfiguration.parse(["--config", path])
            }
        }
    }

    @Test func helpIsNotAnError() {
        do {
            _ = try ControllerConfiguration.parse(["--help"])
            Issue.record("--help must stop parsing")
        } catch {
            #expect(error.isHelp)
        }
    }
}
