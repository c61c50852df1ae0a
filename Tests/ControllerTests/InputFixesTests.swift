import ClusterCore
import Foundation
import Testing

@testable import ControllerKit

/// Small inputs that were refused wrongly or accepted wrongly (issue 18, finding 6).
@Suite struct InputFixesTests {
    @Test func ipv6LoopbackIsLoopback() throws {
        let configuration = try ControllerConfiguration.parse(["--listen", "[::1]:8700", "--data-dir", "/tmp/c"])
        #expect(configuration.listensOnLoopback)
        #expect(
            !(try ControllerConfiguration.parse(["--listen", "[::]:8700", "--data-dir", "/tmp/c"])).listensOnLoopback
        )
    }

    @Test func onePetabyteIsTheLimitTheMessageNames() throws {
        #expect(ByteSize.parse("1P") == 1 << 50)
        var spec = JobSpec(command: ["x"], resources: Resources(memory: ByteSize.parse("1P")!))
        #expect(throws: Never.self) { try spec.validate() }
        spec.resources.memory = ByteSize.parse("2P")!
        #expect(throws: SpecError(field: "memory", message: "must be at most 1P (1 PiB)")) { try spec.validate() }
    }
}

/// A bad value in controller.toml is reported by the file and the key, not by the flag it maps to.
@Suite struct ControllerFileErrorTests {
    @Test(arguments: [
        ("node_timeout = \"soon\"\n", "node_timeout"), ("listen = \"nowhere\"\n", "listen"),
        ("data_dir = \"relative\"\n", "data_dir"),
    ])
    func theFileAndKeyAreNamed(_ text: String, _ key: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("c-\(UUID().uuidString).toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try ControllerConfiguration.parse(["--config", path])
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.hasPrefix("\(path): ") && error.message.contains(key), "\(error.message)")
            #expect(!error.message.contains("--"), "\(error.message)")
        }
    }
}
