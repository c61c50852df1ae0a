public import Dispatch

/// A `SerialExecutor` over a private serial `DispatchQueue`, so an actor's methods run on that queue's thread
/// instead of the cooperative pool, where blocking I/O (SQLite's disk writes, busy waits) would starve other tasks.
///
/// `DispatchSerialQueue` would do this directly but is missing on Linux. Use it as:
///
///     actor Store {
///         let executor = DispatchSerialExecutor(label: "corral.store")
///         nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
///     }
///
/// Sendable without `@unchecked`: its only state is an immutable reference to a (Sendable) queue.
public final class DispatchSerialExecutor: SerialExecutor {
    private let queue: DispatchQueue
    /// Marks `queue` with this executor's identity, for `isOnQueue()`.
    private let key = DispatchSpecificKey<ObjectIdentifier>()

    public init(label: String, qos: DispatchQoS = .default) {
        queue = DispatchQueue(label: label, qos: qos)
        queue.setSpecific(key: key, value: ObjectIdentifier(self))
    }

    public var label: String {
        queue.label
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        // ExecutorJob is non-copyable and cannot be captured by an escaping closure; UnownedJob can.
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            job.runSynchronously(on: executor)
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` and `preconditionIsolated` accept code that runs on the queue outside of a task.
    public func checkIsolated() {
        dispatchPrecondition(condition: .onQueue(queue))
    }

    /// Whether the caller is running on this executor's queue.
    public func isOnQueue() -> Bool {
        DispatchQueue.getSpecific(key: key) == ObjectIdentifier(self)
    }
}
