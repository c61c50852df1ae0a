import ClusterCore
import CorralSupport
import Foundation
import Glibc
import TestSupport
import Testing

@testable import ControllerKit

/// A log upload that fills the controller's disk partway is cut back, so the agent's retry neither duplicates
/// nor tears a byte (issue 18, finding 2). On a 1 MiB tmpfs the test mounts (and unmounts) itself.
@Suite(.serialized, .enabled(if: Tmpfs.canMount, "needs root that may mount a tmpfs"))
struct LogStoreDiskFullTests {

    @Test func aPartialWriteIsCutBackAndTheRetryStoresEveryByteOnce() async throws {
        let directory = NSTemporaryDirectory() + "corral-logs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(Tmpfs.mount(at: directory, size: "1m"))
        defer {
            Tmpfs.unmount(directory)
            try? FileManager.default.removeItem(atPath: directory)
        }
        let store = try LogStore(directory: directory + "/logs")
        let id = try #require(AllocationID(parsing: "job.1"))
        // 1.5 MiB of numbered lines: more than the disk holds.
        let text = (0..<40_000).map { String(format: "line %06d of the job's output\n", $0) }.joined()
        let bytes = Array(text.utf8)
        let first = Array(bytes.prefix(600_000))
        #expect(try await store.append(id, offset: 0, bytes: first) == first.count)
        await #expect(throws: Files.Failure.self) {
            try await store.append(id, offset: first.count, bytes: Array(bytes[first.count...]))
        }
        let stored = try await store.size(of: id)
        #expect(stored == first.count, "the failed write left \(stored - first.count) bytes counted or torn")
        // The agent sends again from the stored size; a piece that fits is stored whole, after the rest.
        let remainder = Array(bytes[first.count...].prefix(300_000))
        #expect(try await store.append(id, offset: stored, bytes: remainder) == first.count + remainder.count)
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: directory + "/logs/job.1.log"))
        #expect(onDisk == Data(bytes.prefix(first.count + remainder.count)), "duplicated or torn bytes in the log")
    }
}
