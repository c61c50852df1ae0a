import CorralSupport
import Foundation
import Glibc
import Testing

@Suite struct FilesTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("files-\(UUID().uuidString)").path

    @Test func atomicWritesCreateDirectoriesAndSetTheMode() throws {
        let path = directory + "/a/b/secret.token"
        try Files.writeAtomically(path, "token\n", mode: 0o600)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(try Files.readSecret(path) == "token\n")
        try Files.writeAtomically(path, "other\n", mode: 0o600)
        #expect(try Files.read(path) == "other\n")
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/a/b") == ["secret.token"])
    }

    @Test func secretsReadableByOthersAreRefused() throws {
        let path = directory + "/open.token"
        try Files.writeAtomically(path, "token\n", mode: 0o644)
        do {
            _ = try Files.readSecret(path)
            Issue.record("a group/world-readable secret must be refused")
        } catch {
            #expect(error.message.contains("chmod 600 \(path)"))
        }
    }

    @Test func readsAreBounded() throws {
        let path = directory + "/big"
        try Files.writeAtomically(path, String(repeating: "x", count: 5000), mode: 0o600)
        #expect(throws: Files.Failure.self) { try Files.read(path, limit: 1000) }
        #expect(throws: Files.Failure.self) { try Files.read(directory + "/missing") }
    }
}
