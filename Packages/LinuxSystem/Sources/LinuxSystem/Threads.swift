internal import CLinuxShims
internal import Glibc

/// OS threads for blocking work (libcurl, waitpid, NVML, an epoll loop) that must never occupy one of Swift's
/// few cooperative threads, without linking all of Foundation for `Thread`.
///
/// Two kinds: `run` takes a thread of a bounded pool, for calls that return (an HTTP request, a short command,
/// a sample of /proc): a burst of thousands of calls waits its turn instead of creating thousands of threads,
/// which exhausts the process (a 10,000-node fleet simulation did: libdispatch then aborted). `runDedicated`,
/// `detach` and `start` give the work a thread of its own, for what may block for as long as it likes (waiting
/// for a job to end, a reactor loop, a hung driver call): it never holds a pool thread.
public enum Threads {
    /// At most this many pool threads at once; more calls wait, in order.
    public static let poolLimit = 256

    static let pool = ThreadPool(limit: poolLimit)

    /// Runs blocking work on a pool thread and returns its result, keeping the cooperative pool free.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            pool.submit { continuation.resume(returning: body()) }
        }
    }

    /// Runs blocking work on a thread of its own and returns its result (work that may block indefinitely).
    /// When no thread can be made (resource limits), it takes a pool thread: never the caller's, which would
    /// hold one of Swift's cooperative threads for as long as the work blocks.
    public static func runDedicated<T: Sendable>(name: String? = nil, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let work = { @Sendable in continuation.resume(returning: body()) }
            if (try? start(name: name, work)) == nil { pool.submit(work) }
        }
    }

    /// Runs `body` on a detached thread of its own. When no thread can be made (resource limits), runs it on
    /// the calling thread rather than drop it.
    public static func detach(name: String? = nil, _ body: @escaping @Sendable () -> Void) {
        let work = Work(name: name, body: body)
        if (try? start(work)) == nil { body() }
    }

    /// Starts `body` on a detached thread of its own (named, for `top -H` and debuggers, when `name` is given:
    /// at most 15 bytes are kept); throws when the thread cannot be made, for callers that must know.
    public static func start(name: String? = nil, _ body: @escaping @Sendable () -> Void) throws(POSIXCallError) {
        try start(Work(name: name, body: body))
    }

    private static func start(_ work: Work) throws(POSIXCallError) {
        let box = Unmanaged.passRetained(work)
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { context in
                let work = Unmanaged<Work>.fromOpaque(context!).takeRetainedValue()
                if let name = work.name { _ = clinux_pthread_setname_self(name) }
                work.body()
                return nil
            },
            box.toOpaque()
        )
        guard result == 0 else {
            box.release()
            throw POSIXCallError(function: "pthread_create", errno: result)
        }
        pthread_detach(thread)
    }

    private final class Work: Sendable {
        let name: String?
        let body: @Sendable () -> Void

        init(name: String?, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}

/// A pool that grows a thread per waiting call up to its limit, runs queued calls in order on the threads it
/// has, and keeps an idle thread for `idleTimeout` before letting it end: making a thread per call costs more
/// than most calls (an HTTP request on loopback), and a burst reuses the threads of the last one.
///
/// `@unchecked Sendable`: every mutable field is read and written only with `condition` locked.
final class ThreadPool: @unchecked Sendable {
    let limit: Int
    let idleTimeout: Duration
    private let condition = Condition()
    private var threads = 0
    private var idle = 0
    /// Waiting calls: taken from `outgoing` (reversed), added to `incoming`, so both ends are O(1).
    private var incoming: [@Sendable () -> Void] = []
    private var outgoing: [@Sendable () -> Void] = []

    init(limit: Int, idleTimeout: Duration = .seconds(2)) {
        self.limit = max(1, limit)
        self.idleTimeout = idleTimeout
    }

    func submit(_ body: @escaping @Sendable () -> Void) {
        condition.lock()
        incoming.append(body)
        // Enough idle threads for every waiting call (a woken thread leaves `idle` only as it takes a call):
        // wake one. Otherwise a thread more, so calls never queue behind each other below the limit.
        if idle >= incoming.count + outgoing.count {
            condition.signal()
            condition.unlock()
            return
        }
        guard threads < limit else {
            condition.unlock()  // a thread takes it when it is done with its call
            return
        }
        threads += 1
        condition.unlock()
        do {
            try Threads.start { self.serve() }
        } catch {
            // No thread could be made. With none left to take the call, it runs here rather than wait for a
            // thread that may never come.
            condition.lock()
            threads -= 1
            let orphaned = threads == 0 ? next() : nil
            condition.unlock()
            orphaned?()
        }
    }

    /// Threads waiting for a call now.
    var idleThreads: Int {
        condition.lock()
        defer { condition.unlock() }
        return idle
    }

    private func serve() {
        condition.lock()
        while true {
            if let work = next() {
                condition.unlock()
                work()
                condition.lock()
                continue
            }
            idle += 1
            let signalled = condition.wait(for: idleTimeout)
            idle -= 1
            if !signalled && incoming.isEmpty && outgoing.isEmpty {
                threads -= 1
                condition.unlock()
                return
            }
        }
    }

    /// The next waiting call, oldest first; call with `condition` locked.
    private func next() -> (@Sendable () -> Void)? {
        if outgoing.isEmpty {
            outgoing = incoming.reversed()
            incoming = []
        }
        return outgoing.popLast()
    }
}

/// A pthread mutex and condition variable (on CLOCK_MONOTONIC, so a wall-clock step never stretches a wait).
/// Their storage is allocated once and never moves, as pthread requires.
final class Condition: @unchecked Sendable {
    // @unchecked Sendable: the pthread objects are made for use from any thread.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func signal() { pthread_cond_signal(cond) }

    /// Waits (the mutex locked) until signalled or `duration` has passed; false when the time ran out.
    func wait(for duration: Duration) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let (seconds, attoseconds) = duration.components
        var nanoseconds = Int(deadline.tv_nsec) + Int(attoseconds / 1_000_000_000)
        deadline.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        deadline.tv_nsec = nanoseconds
        return pthread_cond_timedwait(cond, mutex, &deadline) == 0
    }
}
