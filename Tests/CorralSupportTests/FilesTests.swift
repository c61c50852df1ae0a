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

    @Test func secretsFromFilesAreOneTrimmedToken() throws {
        let good = directory + "/good.token"
        try Files.writeAtomically(good, "  crl_abc123\n", mode: 0o600)
        #expect(try Files.secret(from: good, prompt: "token: ") == "crl_abc123")
        let cases: [(name: String, text: String, mode: mode_t, says: String)] = [
            ("empty", "\n\n", 0o600, "empty"),
            ("two-lines", "crl_a\ncrl_b\n", 0o600, "not one token"),
            ("spaces", "crl_a crl_b", 0o600, "not one token"),
            ("huge", String(repeating: "x", count: 5000), 0o600, "not one token"),
            ("open", "crl_a\n", 0o644, "chmod 600"),
        ]
        for item in cases {
            let path = directory + "/" + item.name
            try Files.writeAtomically(path, item.text, mode: item.mode)
            do {
                _ = try Files.secret(from: path, prompt: "token: ")
                Issue.record("\(item.name) must be refused")
            } catch {
                #expect(error.message.contains(item.says), "\(item.name): \(error.message)")
            }
        }
        #expect(throws: Files.Failure.self) { try Files.secret(from: directory + "/missing", prompt: "") }
    }

    @Test func readsAreBounded() throws {
        let path = directory + "/big"
        try Files.writeAtomically(path, String(repeating: "x", count: 5000), mode: 0o600)
        #expect(throws: Files.Failure.self) { try Files.read(path, limit: 1000) }
        #expect(throws: Files.Failure.self) { try Files.read(directory + "/missing") }
    }
}
