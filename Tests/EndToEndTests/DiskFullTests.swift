import ClusterWire
import Foundation
import Glibc
import HTTPKit
import Testing

/// The controller's data directory on a small tmpfs the test mounts itself (and unmounts, even when it fails):
/// a full disk is a 507 naming the cause, in the API, the CLI and the log, and `/healthz` says so until space
/// is back (issue 18, finding 4).
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: Tmpfs.canMount, "needs root that may mount a tmpfs"))
struct DiskFullTests {
    static func sh(_ command: String) -> Int32 { Tmpfs.sh(command) }

    @Test func aFullControllerDiskIs507AndHealthzSaysSoUntilSpaceIsBack() async throws {
        let cluster = try TestCluster()
        try FileManager.default.createDirectory(atPath: cluster.dataDir, withIntermediateDirectories: true)
        #expect(Self.sh("mount -t tmpfs -o size=3m,mode=0700 corral-test-tmpfs '\(cluster.dataDir)'") == 0)
        defer {
            cluster.killController()
            _ = Self.sh("umount -l '\(cluster.dataDir)'")
        }
        try await cluster.startController()
        try await cluster.configureCLI()
        #expect(try await cluster.submit([], ["true"]).count > 0)
        // Fill what is left of the disk.
        _ = Self.sh("dd if=/dev/zero of='\(cluster.dataDir)/filler' bs=64k 2>/dev/null")
        var refused: TestCluster.Result?
        for _ in 0..<50 {
            let result = try await cluster.corral([
                "submit", "--env", "PAD=\(String(repeating: "x", count: 60_000))", "--", "true",
            ])
            if result.status != 0 {
                refused = result
                break
            }
        }
        let full = try #require(refused, "every submission was stored on a full disk?")
        #expect(full.stderr.contains("disk is full"), "\(full.stderr)")
        let anonymous = HTTPClient(configuration: HTTPClientConfiguration(baseURL: cluster.endpoint))
        let health = try await anonymous.execute(.get, "/healthz")
        #expect(health.status == 503)
        #expect(String(decoding: health.body, as: UTF8.self).contains("disk full"))
        #expect(cluster.read(cluster.root + "/controller.log").contains("disk"), "the controller's log is silent")
        // Space back: submissions are stored again and the controller is healthy.
        #expect(Self.sh("rm -f '\(cluster.dataDir)/filler'") == 0)
        let again = try await cluster.corral(["submit", "--", "true"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await anonymous.execute(.get, "/healthz").status == 200)
    }
}

/// Mounting a tmpfs for a test: root, and allowed to mount (a container without CAP_SYS_ADMIN is not), tried
/// once on a directory of its own.
enum Tmpfs {
    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("corral-mount-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard sh("mount -t tmpfs -o size=1m corral-probe '\(probe)'") == 0 else { return false }
        return sh("umount '\(probe)'") == 0
    }()

    static func sh(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try? process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
