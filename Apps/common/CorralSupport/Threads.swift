import Glibc

/// A detached OS thread for blocking work (waitpid on a job) that must never occupy one of Swift's few
/// cooperative threads, without linking all of Foundation for `Thread`.
public enum Threads {
    /// Runs blocking work on a thread of its own and returns its result, keeping the cooperative pool free.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            detach { continuation.resume(returning: body()) }
        }
    }

    public static func detach(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Work(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { context in
                let work = Unmanaged<Work>.fromOpaque(context!).takeRetainedValue()
                work.body()
                return nil
            },
            box
        )
        if result == 0 {
            pthread_detach(thread)
        } else {
            // No thread could be made (resource limits): run the work here rather than drop it.
            Unmanaged<Work>.fromOpaque(box).takeRetainedValue().body()
        }
    }

    private final class Work: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
