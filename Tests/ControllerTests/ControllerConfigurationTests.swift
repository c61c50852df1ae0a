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
    ])
    func badFlagsAreUsageErrors(arguments: [String]) {
        #expect(throws: ConfigurationError.self) { try ControllerConfiguration.parse(arguments) }
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

    @Test func helpIsNotAnError() {
        do {
            _ = try ControllerConfiguration.parse(["--help"])
            Issue.record("--help must stop parsing")
        } catch {
            #expect(error.isHelp)
        }
    }
}
