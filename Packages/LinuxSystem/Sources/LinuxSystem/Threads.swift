internal import CLinuxShims
internal import Glibc
import Synchronization

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
/// has, and lets a thread end when nothing waits.
final class ThreadPool: Sendable {
    private struct State {
        var running = 0
        /// Waiting calls: taken from `out` (reversed), added to `in`, so both ends are O(1).
        var incoming: [@Sendable () -> Void] = []
        var outgoing: [@Sendable () -> Void] = []

        mutating func next() -> (@Sendable () -> Void)? {
            if outgoing.isEmpty {
                outgoing = incoming.reversed()
                incoming = []
            }
            return outgoing.popLast()
        }
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = max(1, limit) }

    func submit(_ body: @escaping @Sendable () -> Void) {
        let grow = state.withLock { state -> Bool in
            guard state.running < limit else {
                state.incoming.append(body)
                return false
            }
            state.running += 1
            return true
        }
        guard grow else { return }
        do {
            try Threads.start { self.serve(body) }
        } catch {
            // No thread could be made: this call runs here rather than wait for a thread that may never come.
            state.withLock { $0.running -= 1 }
            body()
        }
    }

    private func serve(_ first: @escaping @Sendable () -> Void) {
        var work: (@Sendable () -> Void)? = first
        while let body = work {
            body()
            work = state.withLock { state in
                let next = state.next()
                if next == nil { state.running -= 1 }
                return next
            }
        }
    }
}
