import ClusterCore
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
