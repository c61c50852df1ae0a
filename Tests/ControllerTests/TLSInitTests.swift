import Foundation
import Testing

@testable import ControllerKit

/// `corral-controller tls init`: the node-name rule for agents' client certificates is the controller's.
@Suite struct TLSInitTests {
    @Test(arguments: ["a b", ".hidden", "a/b", "", String(repeating: "n", count: 65), "node\u{e9}"])
    func badNodeNamesAreRefusedBeforeAnythingIsWritten(name: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsinit-\(UUID())").path
        #expect(TLSInit.main(["init", directory, "--host", "localhost", "--client", name]) == 1)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func goodNodeNamesGetCertificatesFromTheCorralCA() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tlsinit-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(TLSInit.main(["init", directory, "--host", "localhost", "--client", "gpu-01.rack_2"]) == 0)
        #expect(FileManager.default.fileExists(atPath: directory + "/clients/gpu-01.rack_2.pem"))
        #expect(TLSInit.isValidNodeName(String(repeating: "n", count: 64)))
    }
}
