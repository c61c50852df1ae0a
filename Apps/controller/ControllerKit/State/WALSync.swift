import CorralSupport
import Dispatch
import Glibc
import Synchronization

/// The state's commits reach the disk off its actor (issue 16). The state's connection writes SQLite's WAL
/// without syncing it (`synchronous = NORMAL`); after each commit the actor counts it here and goes on, and this
/// syncs the WAL file (`fdatasync`) on a thread of its own, for every commit made since the last sync at once.
/// Nothing leaves the controller before what it may depend on is on the disk: every HTTP answer (a 201, an agent's
/// placements, a report's acknowledgement, a read) and every notification first waits for `barrier()`, which
/// returns once every commit counted before it was called is synced. A commit visible in memory is counted
/// before anyone can see it (`ClusterState.commit`), so an answer never tells of a change a crash could take
/// back. A failed sync leaves the disk's state unknown: the controller exits, and its restart reads what was
/// synced (what nobody heard of is gone, as if it had never been decided).
///
/// With 1,000 simulated nodes on a million stored jobs, the state's actor had waited for each commit's sync in
/// turn: 50,000 jobs ran in 61-65 s that way, in 45-47 s without the wait (docs/PERFORMANCE.md).
final class WALSync: Sendable {
    private struct State {
        var counted = 0
        var synced = 0
        var syncing = false
        var waiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    /// Makes the counted commits durable (blocking); `fdatasync` of the WAL but in tests.
    private let syncFile: @Sendable () -> Void
    private let queue = DispatchQueue(label: "corral-wal-sync")

    /// `databasePath`: the SQLite file; its WAL is beside it ("-wal").
    convenience init(databasePath: String, log: any LogSink) {
        let walPath = databasePath + "-wal"
        self.init { Self.sync(walPath, log: log) }
    }

    /// With another way to sync (`WALSyncTests`).
    init(sync: @escaping @Sendable () -> Void) { syncFile = sync }

    /// Counts a commit of the state's connection (called on the actor, right after SQLite committed it).
    func counted() {
        state.withLock { $0.counted += 1 }
        startSyncing()
    }

    /// Returns once every commit counted before the call is on the disk.
    func barrier() async {
        let target = state.withLock { $0.counted }
        guard state.withLock({ $0.synced < target }) else { return }
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                guard state.synced < target else { return true }
                state.waiters.append((target, continuation))
                return false
            }
            if done { continuation.resume() } else { startSyncing() }
        }
    }

    private func startSyncing() {
        let start = state.withLock { state -> Bool in
            guard !state.syncing, state.synced < state.counted else { return false }
            state.syncing = true
            return true
        }
        if start { queue.async { self.syncUntilCaughtUp() } }
    }

    /// Syncs until no counted commit is left unsynced; commits counted during a sync go in the next one.
    private func syncUntilCaughtUp() {
        while true {
            let target = state.withLock { $0.counted }
            syncFile()
            let (ready, more) = state.withLock { state in
                state.synced = max(state.synced, target)
                var ready: [CheckedContinuation<Void, Never>] = []
                state.waiters.removeAll { waiter in
                    guard waiter.target <= state.synced else { return false }
                    ready.append(waiter.continuation)
                    return true
                }
                state.syncing = state.synced < state.counted
                return (ready, state.syncing)
            }
            for continuation in ready { continuation.resume() }
            if !more { return }
        }
    }

    /// `fdatasync` of the WAL file through a descriptor of its own (any descriptor of a file syncs all of it).
    /// No WAL yet: nothing was written in WAL mode, so nothing waits.
    private static func sync(_ walPath: String, log: any LogSink) {
        let fd = open(walPath, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            guard errno == ENOENT else {
                return fail("cannot open \(walPath): \(String(cString: strerror(errno)))", log: log)
            }
            return
        }
        defer { close(fd) }
        guard fdatasync(fd) == 0 else {
            return fail("cannot sync \(walPath): \(String(cString: strerror(errno)))", log: log)
        }
    }

    private static func fail(_ problem: String, log: any LogSink) {
        log.error(
            "\(problem); what was decided since the last sync may not be on the disk: exiting, to start again from it"
        )
        exit(75)
    }
}
