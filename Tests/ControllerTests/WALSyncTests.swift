import ClusterCore
import ClusterStore
import CorralSupport
import Foundation
import HTTPKit
import Synchronization
import Testing

@testable import ControllerKit

/// The gate every answer passes (`WALSync`): a barrier returns only once every commit counted before it is synced,
/// commits counted while a sync runs share the next one, and with nothing counted nobody waits. The sync here is
/// a stand-in that blocks until the test lets it go, so "not before" can be seen; the controller's own is
/// `fdatasync` of the WAL, which the end-to-end and fault suites run through.
@Suite struct WALSyncTests {
    /// A sync that counts its calls, says when one starts, and blocks each one until released (or every one,
    /// once opened).
    final class HeldSync: Sendable {
        let calls = Mutex(0)
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let opened = Mutex(false)

        func sync() {
            calls.withLock { $0 += 1 }
            started.signal()
            if !opened.withLock({ $0 }) { gate.wait() }
        }

        /// Releases the sync that waits, and lets every later one through.
        func open() {
            opened.withLock { $0 = true }
            gate.signal()
        }

        /// Waits (off the cooperative pool) until a sync has started.
        func waitForStart() async {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    self.started.wait()
                    continuation.resume()
                }
            }
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
        await held.waitForStart()  // the first sync runs, and is held
        for _ in 0..<100 { wal.counted() }
        let passed = Flag()
        let waiter = Task {
            await wal.barrier()
            passed.set()
        }
        held.gate.signal()  // the first sync ends; the 100 go in one more
        await held.waitForStart()
        #expect(!passed.isSet, "the barrier passed with 100 commits unsynced")
        #expect(held.calls.withLock { $0 } == 2)
        held.gate.signal()
        await waiter.value
        #expect(passed.isSet && held.calls.withLock { $0 } == 2)
    }

    /// A commit begun and not yet counted (its rows readable by another connection) is waited for too.
    @Test func aCommitBegunIsWaitedForBeforeItIsCounted() async throws {
        let held = HeldSync()
        let wal = WALSync { held.sync() }
        wal.willCommit()
        let passed = Flag()
        let waiter = Task {
            await wal.barrier()
            passed.set()
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!passed.isSet)
        wal.counted()
        await held.waitForStart()
        #expect(!passed.isSet)
        held.gate.signal()
        await waiter.value
    }

    /// The rule end to end through the router: a submission's 201 does not leave before its commit is synced.
    @Test func aSubmissionIsAnsweredOnlyOnceItsCommitIsSynced() async throws {
        let held = HeldSync()
        let fixture = try await APIFixture.make(walSync: WALSync { held.sync() })
        // Every sync let through first: a test that fails while one is held must not wait on it forever here.
        defer {
            held.open()
            fixture.remove()
        }
        await held.waitForStart()  // the start's own sync (the migrations)
        held.gate.signal()
        let alice = try await fixture.credentials.createToken(user: "alice", kind: .user, expiresIn: nil).0
        let answered = Flag()
        let post = Task {
            let response = try await fixture.post("/v1/jobs", #"{"command":["true"]}"#, token: alice)
            answered.set()
            return response.status.code
        }
        await held.waitForStart()  // the submission's
        try await Task.sleep(for: .milliseconds(100))
        #expect(!answered.isSet, "the 201 left before its commit was synced")
        // The answer waits for every commit counted before it, and the scheduling pass its submission asked
        // for may have committed too: from here on every sync goes through.
        held.open()
        #expect(try await post.value == 201)
    }

    @Test func withNothingCountedNobodyWaits() async {
        let held = HeldSync()
        let wal = WALSync { held.sync() }
        await wal.barrier()
        #expect(held.calls.withLock { $0 } == 0)
    }

    /// A closed sync lets the sync in flight end first, syncs nothing more, and lets every barrier through: so a
    /// test's directory can go while its state lives on, where a sync that found the WAL gone would end the process.
    @Test func closeWaitsForTheSyncInFlightThenSyncsNothing() async throws {
        let held = HeldSync()
        let wal = WALSync { held.sync() }
        wal.counted()
        await held.waitForStart()
        let closing = Flag()
        let closed = Flag()
        // On a thread of its own: `close` blocks until the held sync ends, and a blocked thread of the cooperative
        // pool (two here) with another test blocking the other left nothing to end it (a CI run hung so).
        let closer = Thread {
            closing.set()
            wal.close()
            closed.set()
        }
        closer.start()
        while !closing.isSet { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!closed.isSet, "close returned while a sync ran")
        held.gate.signal()
        while !closed.isSet { try await Task.sleep(for: .milliseconds(5)) }
        wal.counted()
        await wal.barrier()
        try await Task.sleep(for: .milliseconds(50))
        #expect(held.calls.withLock { $0 } == 1)
    }

    /// The same on a real state whose directory goes while its last commits are still being synced (each used to
    /// end the test process with status 75, and no word, now and then).
    @Test func aStatesDirectoryGoesOnceItsSyncsAreClosed() async throws {
        for _ in 0..<100 {
            let fixture = try await APIFixture.make()
            _ = try await fixture.state.submit(JobSpec(command: ["true"]), user: "alice")
            fixture.remove()
            #expect(!FileManager.default.fileExists(atPath: fixture.directory))
        }
    }

    /// The controller's own: a real database's WAL, synced; an in-memory database has none to wait for.
    @Test func theWALOfARealDatabaseIsSynced() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("walsync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("corral.db").path
        let database = try ClusterDatabase(path: path)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        let wal = WALSync(databasePath: database.sqlitePath ?? "", log: MemoryLog())
        wal.willCommit()
        wal.counted()
        await wal.barrier()
        let memory = WALSync(databasePath: ":memory:", log: MemoryLog())
        memory.counted()
        await memory.barrier()
    }
}
