import ClusterWire
import Foundation
import Glibc
import Testing

/// `corral logs -f` through a controller restart, and on a job that can never start (issue 18, finding 7).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FollowTests {
    @Test func followingSurvivesAControllerRestartAndLosesNothing() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        // The second line comes once the controller is back (after a fixed 4 s, a loaded machine's follow could
        // have ended before the restart it is to survive).
        let gate = cluster.root + "/two"
        let id = try await cluster.submit(
            [],
            ["sh", "-c", "echo one; while [ ! -e \(gate) ]; do sleep 0.1; done; echo two"]
        )
        let log = cluster.root + "/follow.log"
        let follow = try cluster.launch("corral", ["logs", "-f", id], log: log)
        try await waitUntil("the first line is followed", timeout: 60) { cluster.read(log).contains("one") }
        cluster.killController()
        try await Task.sleep(for: .seconds(1))
        try await cluster.startController()
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        try await waitUntil("the follow ends", timeout: 60) { !follow.isRunning }
        #expect(follow.terminationStatus == 0, "\(cluster.read(log))")
        let text = cluster.read(log)
        #expect(text.components(separatedBy: "one\n").count == 2 && text.contains("two"), "\(text)")
        #expect(text.contains("retrying for up to"), "no notice of the restart: \(text)")
    }

    @Test func followingAJobThatCannotStartSaysWhy() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let id = try await cluster.submit(["--gpus", "8"], ["true"])
        let log = cluster.root + "/waiting.log"
        let follow = try cluster.launch("corral", ["logs", "-f", id], log: log)
        defer { if follow.isRunning { kill(follow.processIdentifier, SIGKILL) } }
        try await waitUntil("the follow says why the job waits", timeout: 60) {
            cluster.read(log).contains("waits: NoFeasibleNode (corral explain \(id) says why)")
        }
        #expect(follow.isRunning)
        // ls --watch into a file: the listings, without the escapes that clear a terminal.
        let listing = cluster.root + "/watch.log"
        let watch = try cluster.launch("corral", ["ls", "--watch"], log: listing)
        defer { if watch.isRunning { kill(watch.processIdentifier, SIGKILL) } }
        try await waitUntil("ls --watch lists the job", timeout: 60) { cluster.read(listing).contains(id) }
        #expect(!cluster.read(listing).contains("\u{1B}["), "\(cluster.read(listing))")
    }
}
