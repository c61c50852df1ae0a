import CorralSupport
import Foundation
import Synchronization
import Testing

@testable import ControllerKit

/// The gate every answer passes (`WALSync`): a barrier returns only once every commit counted before it is synced,
/// commits counted while a sync runs share the next one, and with nothing counted nobody waits. The sync here is
/// a stand-in that blocks until the test lets it go, so "not before" can be seen; the controller's own is
/// `fdatasync` of the WAL, which the end-to-end and fault suites run through.
@Suite struct WALSyncTests {
    /// A sync that counts its calls and blocks each one until released.
    final class HeldSync: Sendable {
        let calls = Mutex(0)
        let gate = DispatchSemaphore(value: 0)

        func sync() {
            calls.withLock { $0 += 1 }
            gate.wait()
        }
    }

    final class Flag: Sendable {
        let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
        func set() { value.withLock { $0 = true } }
    }

    @Test func aBarrierWaitsForTheSyncOfWhatWasCountedBeforeIt() async throws {
        let held = HeldSync()
        let wal = WALSync { held.sync() }
        wal.counted()
        let passed = Flag()
        let waiter = Task {
            await wal.barrier()
            passed.set()
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!passed.isSet, "the barrier returned before the sync ended")
        #expect(held.calls.withLock { $0 } == 1)
        held.gate.signal()
        await waiter.value
        #expect(passed.isSet)
    }

    @Test func commitsCountedDuringASyncShareTheNext() async throws {
        let held = HeldSync()
        let wal = WALSync { held.sync() }
        wal.counted()
        try await Task.sleep(for: .milliseconds(50))  // the first sync is running, and blocked
        for _ in 0..<100 { wal.counted() }
        let waiter = Task { await wal.barrier() }
        try await Task.sleep(for: .milliseconds(100))
        #expect(held.calls.withLock { $0 } == 1)
        held.gate.signal()  // the first sync ends; the 100 go in one more
        try await Task.sleep(for: .milliseconds(100))
        #expect(held.calls.withLock { $0 } == 2)
        held.gate.signal()
        await waiter.value
        #expect(held.calls.withLock { $0 } == 2)
    }

    @Test func withNothingCountedNobodyWaits() async {
        let held = HeldSync()
        let wal = WALSync { held.sync() }
        await wal.barrier()
        #expect(held.calls.withLock { $0 } == 0)
    }

    /// The controller's own: a commit on a real file, the WAL synced, the barrier passed.
    @Test func theWALOfARealDatabaseIsSynced() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("walsync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("corral.db").path
        #expect(FileManager.default.createFile(atPath: path + "-wal", contents: Data("frames".utf8)))
        let wal = WALSync(databasePath: path, log: MemoryLog())
        wal.counted()
        await wal.barrier()
        // And without a WAL (nothing written yet): nothing to sync, nobody waits for ever.
        let none = WALSync(databasePath: directory.appendingPathComponent("none.db").path, log: MemoryLog())
        none.counted()
        await none.barrier()
    }
}
