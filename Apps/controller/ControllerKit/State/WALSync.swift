import CorralSupport
import Dispatch
import Glibc
import Synchronization

/// The state's commits reach the disk off its actor (issue 16). The state's connection writes SQLite's WAL
/// without syncing it (`synchronous = NORMAL`); after each commit the actor counts it here and goes on, and this
/// syncs the WAL file (`fdatasync`) on a thread of its own, for every commit made since the last sync at once.
/// Nothing leaves the controller before what it may depend on is on the disk: every HTTP answer (a 201, an agent's
/// placements, a report's acknowledgement, a read) and every notification first waits for `barrier()`, which
/// returns once every commit begun before it was called is synced. A commit is begun (`willCommit`) before
/// SQLite commits it, so before another connection can read it, and counted before memory changes
/// (`ClusterState.commit`): an answer never tells of a change a crash could take back. A failed sync leaves the
/// disk's state unknown: the controller exits, and its restart reads what was synced (what nobody heard of is
/// gone, as if it had never been decided).
///
/// With 1,000 simulated nodes on a million stored jobs, the state's actor had waited for each commit's sync in
/// turn: 50,000 jobs ran in 61-65 s that way, in 45-47 s without the wait (docs/PERFORMANCE.md).
final class WALSync: Sendable {
    private struct State {
        var counted = 0
        /// Commits begun and not yet counted: another connection (accounting's) may already see their rows.
        var pending = 0
        var synced = 0
        var syncing = false
        var closed = false
        var waiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    /// Makes the counted commits durable (blocking); `fdatasync` of the WAL but in tests.
    private let syncFile: @Sendable () -> Void
    private let queue = DispatchQueue(label: "corral-wal-sync")

    /// `databasePath`: the SQLite file; its WAL is beside it ("-wal"). An in-memory database has none, and
    /// nothing to wait for; nor has PostgreSQL (empty), whose COMMIT returns once the commit is durable. The WAL is opened once, now, and kept: Linux reports a write error of a file to each
    /// descriptor that was open when it happened, and a descriptor opened later would miss one another
    /// connection's sync had already reported.
    convenience init(databasePath: String, log: any LogSink) {
        guard !databasePath.isEmpty, databasePath != ":memory:" else {
            self.init {}
            return
        }
        let wal = WALFile(path: databasePath + "-wal", log: log)
        self.init { wal.sync() }
    }

    /// With another way to sync (`WALSyncTests`).
    init(sync: @escaping @Sendable () -> Void) { syncFile = sync }

    /// Before a commit of the state's connection: a barrier from now on waits for it too.
    func willCommit() { state.withLock { $0.pending += 1 } }

    /// After a commit of the state's connection, whether it was stored or not (called on the actor, right after
    /// SQLite answered, before memory changes).
    func counted() {
        state.withLock { state in
            state.pending = max(0, state.pending - 1)
            state.counted += 1
        }
        startSyncing()
    }

    /// What a barrier now would wait for: every commit counted or begun.
    func mark() -> Int { state.withLock { $0.counted + $0.pending } }

    /// Returns once every commit counted or begun before the call is on the disk.
    func barrier() async { await barrier(upTo: mark()) }

    /// Syncs nothing more, once a sync in flight has ended; a barrier from now on returns at once. For the state's
    /// owner before its files go (a test's directory): a sync that found the WAL gone would end the process, as
    /// it must while the controller runs.
    func close() {
        state.withLock { $0.closed = true }
        queue.sync {}
        let waiting = state.withLock { state in
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once the first `target` commits are on the disk.
    func barrier(upTo target: Int) async {
        guard state.withLock({ !$0.closed && $0.synced < target }) else { return }
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                guard !state.closed, state.synced < target else { return true }
                state.waiters.append((target, continuation))
                return false
            }
            if done { continuation.resume() } else { startSyncing() }
        }
    }

    private func startSyncing() {
        let start = state.withLock { state -> Bool in
            guard !state.syncing, !state.closed, state.synced < state.counted else { return false }
            state.syncing = true
            return true
        }
        if start { queue.async { self.syncUntilCaughtUp() } }
    }

    /// Syncs until no counted commit is left unsynced; commits counted during a sync go in the next one.
    private func syncUntilCaughtUp() {
        while true {
            let (target, closed) = state.withLock { ($0.counted, $0.closed) }
            if !closed { syncFile() }
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
}

/// The WAL file, through one descriptor kept for the process's life (see `WALSync.init`). A WAL that is gone or
/// replaced (another inode at its path) while the controller runs, or a failed sync, leaves the disk's state
/// unknown: the controller logs it and exits at once, and its restart reads what was synced.
final class WALFile: Sendable {
    let path: String
    let log: any LogSink
    private let descriptor = Mutex<Int32>(-1)
    /// The WAL inode whose directory entry was synced: a new WAL's name must reach the disk too, once (SQLite
    /// syncs the directory at its own first sync of a WAL, which at `synchronous=NORMAL` waits for a checkpoint).
    private let directorySynced = Mutex<UInt64?>(nil)

    init(path: String, log: any LogSink) {
        self.path = path
        self.log = log
        descriptor.withLock { $0 = open(path, O_RDONLY | O_CLOEXEC) }
    }

    deinit { descriptor.withLock { if $0 >= 0 { close($0) } } }

    func sync() {
        descriptor.withLock { fd in
            // SQLite makes the WAL when it opens the database: only a start on a database never opened has none.
            if fd < 0 { fd = open(path, O_RDONLY | O_CLOEXEC) }
            guard fd >= 0 else { return fail("cannot open \(path): \(String(cString: strerror(errno)))") }
            var held = stat()
            var named = stat()
            guard fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_dev == named.st_dev,
                held.st_ino == named.st_ino
            else { return fail("\(path) is gone or was replaced while the controller ran") }
            guard fdatasync(fd) == 0 else { return fail("cannot sync \(path): \(String(cString: strerror(errno)))") }
            let inode = UInt64(held.st_ino)
            guard directorySynced.withLock({ $0 != inode }) else { return }
            let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
                .joined(separator: "/")
            let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard dirfd >= 0, fsync(dirfd) == 0 else {
                return fail("cannot sync the directory of \(path): \(String(cString: strerror(errno)))")
            }
            close(dirfd)
            directorySynced.withLock { $0 = inode }
        }
    }

    private func fail(_ problem: String) {
        log.error(
            "\(problem); what was decided since the last sync may not be on the disk: exiting, to start again from it"
        )
        _exit(75)
    }
}
