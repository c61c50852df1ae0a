import Foundation
import Glibc

/// A real `corral-controller` (the built binary) on loopback with a temporary data directory.
final class BenchController: Sendable {
    let process: Process
    let root: String
    let endpoint: String
    let adminToken: String
    let clusterToken: String
    var pid: Int32 { process.processIdentifier }

    /// Where the built products are: next to the test bundle, as Tests/EndToEndTests/Support/TestCluster.swift
    /// finds them, unless CORRAL_BIN_DIR says otherwise.
    static var binaries: String {
        if let dir = ProcessInfo.processInfo.environment["CORRAL_BIN_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }

    private init(process: Process, root: String, endpoint: String, adminToken: String, clusterToken: String) {
        self.process = process
        self.root = root
        self.endpoint = endpoint
        self.adminToken = adminToken
        self.clusterToken = clusterToken
    }

    /// `prepare` gets the data directory (made, mode 0700) before the controller starts on it.
    static func start(prepare: (String) throws -> Void = { _ in }) async throws -> BenchController {
        let root = NSTemporaryDirectory() + "corral-bench-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        chmod(root + "/data", 0o700)
        try prepare(root + "/data")
        let log = root + "/controller.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaries + "/corral-controller")
        process.arguments = ["--data-dir", root + "/data", "--listen", "127.0.0.1:0"]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = process.standardOutput
        try process.run()
        let endpointFile = root + "/data/endpoint"
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: endpointFile) {
            try await Task.sleep(for: .milliseconds(50))
        }
        func read(_ name: String) -> String {
            ((try? String(contentsOfFile: root + "/data/" + name, encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return BenchController(
            process: process,
            root: root,
            endpoint: read("endpoint"),
            adminToken: read("admin.token"),
            clusterToken: read("cluster.token")
        )
    }

    /// What the controller wrote to its log so far.
    var log: String { (try? String(contentsOfFile: root + "/controller.log", encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: root)
    }
}
