import Foundation
import Testing

@testable import AgentKit

/// agent.toml values that used to be accepted and failed later, or never (issue 18, finding 6).
@Suite struct AgentInputTests {
    func load(_ text: String) throws -> AgentConfiguration {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString).toml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        chmod(path, 0o600)
        defer { unlink(path) }
        return try AgentConfiguration.load(path: path, environment: [:])
    }

    @Test(arguments: [
        "http://", "https://", "http://:8700", "http://host:99999", "http://host:0", "http://host:port", "ftp://host",
        "http://user@host", "http://[::1", "http://[::1]x", "http:// host",
    ])
    func badEndpointsAreRefused(_ endpoint: String) {
        #expect(throws: ConfigurationFailure.self, "\(endpoint)") {
            try load("endpoint = \"\(endpoint)\"\ncluster_token = \"t\"\nnode_id = \"n\"\nstate_dir = \"/tmp/x\"\n")
        }
    }

    @Test(arguments: ["http://c:8700", "https://controller.example", "http://[::1]:8700", "https://10.0.0.1/corral"])
    func goodEndpointsAreKept(_ endpoint: String) throws {
        let configuration = try load(
            "endpoint = \"\(endpoint)\"\ncluster_token = \"t\"\nnode_id = \"n\"\nstate_dir = \"/tmp/x\"\n"
        )
        #expect(configuration.endpoint == endpoint)
    }

    @Test func nvmlIsOffAPathOrALibraryName() throws {
        let base = "endpoint = \"http://c:1\"\ncluster_token = \"t\"\nnode_id = \"n\"\nstate_dir = \"/tmp/x\"\n"
        #expect(throws: ConfigurationFailure.self) { try load(base + "nvml = \"maybe\"\n") }
        for value in ["off", "/usr/lib/libnvidia-ml.so", "libnvidia-ml.so.1"] {
            #expect(try load(base + "nvml = \"\(value)\"\n").nvml == value)
        }
    }
}

/// agent.toml `address`: a host name or an IP, nothing a hostfile line or a shell would read otherwise.
@Suite struct AgentAddressTests {
    @Test(arguments: ["10.0.0.7", "gpu-7.example", "fe80::1", "node_1"])
    func kept(_ address: String) throws {
        let configuration = try AgentInputTests().load(
            "endpoint = \"http://c:1\"\ncluster_token = \"t\"\nnode_id = \"n\"\nstate_dir = \"/tmp/x\"\naddress = \"\(address)\"\n"
        )
        #expect(configuration.address == address)
    }

    @Test(arguments: ["", "a b", "host;rm", "10.0.0.7 slots=99", "$(id)", String(repeating: "a", count: 254)])
    func refused(_ address: String) {
        #expect(throws: ConfigurationFailure.self) {
            try AgentInputTests().load(
                "endpoint = \"http://c:1\"\ncluster_token = \"t\"\nnode_id = \"n\"\nstate_dir = \"/tmp/x\"\naddress = \"\(address)\"\n"
            )
        }
    }
}
