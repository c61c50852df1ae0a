import ClusterWire
import Foundation
import Glibc
import HTTPKit
import TestSupport
import Testing

/// The controller's data directory on a small tmpfs the test mounts itself (and unmounts, even when it fails):
/// a full disk is a 507 naming the cause, in the API, the CLI and the log, and `/healthz` says so until space
/// is back (issue 18, finding 4).
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: Tmpfs.canMount, "needs root that may mount a tmpfs"))
struct DiskFullTests {
    @Test func aFullControllerDiskIs507AndHealthzSaysSoUntilSpaceIsBack() async throws {
        let cluster = try TestCluster()
        try FileManager.default.createDirectory(atPath: cluster.dataDir, withIntermediateDirectories: true)
        #expect(Tmpfs.mount(at: cluster.dataDir, size: "3m"))
        defer {
            cluster.killController()
            Tmpfs.unmount(cluster.dataDir)
        }
        try await cluster.startController()
        try await cluster.configureCLI()
        #expect(try await cluster.submit([], ["true"]).count > 0)
        // Fill what is left of the disk.
        _ = Tmpfs.sh("dd if=/dev/zero of='\(cluster.dataDir)/filler' bs=64k 2>/dev/null")
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
        #expect(
            cluster.read(cluster.root + "/controller.log").contains("disk is full"),
            "the controller's log is silent"
        )
        // Space back: submissions are stored again and the controller is healthy.
        #expect(Tmpfs.sh("rm -f '\(cluster.dataDir)/filler'") == 0)
        let again = try await cluster.corral(["submit", "--", "true"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await anonymous.execute(.get, "/healthz").status == 200)
    }
}
