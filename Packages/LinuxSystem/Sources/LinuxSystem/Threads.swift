internal import CLinuxShims
internal import Glibc

/// Dedicated OS threads for blocking work (waitpid, libcurl, NVML, an epoll loop) that must never occupy one
/// of Swift's few cooperative threads, without linking all of Foundation for `Thread`. Every call gets a
/// thread of its own: a queue or pool would let one hung call (a wedged GPU driver, a 25 s long poll) hold up
/// the work behind it.
public enum Threads {
    /// Runs blocking work on a thread of its own and returns its result, keeping the cooperative pool free.
    public static func run<T: Sendable>(name: String? = nil, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            detach(name: name) { continuation.resume(returning: body()) }
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
