import Synchronization

/// Set when the task awaiting a stream is cancelled; read by libcurl callbacks on the transfer's thread.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isCancelled: Bool { flag.load(ordering: .acquiring) }

    func cancel() {
        flag.store(true, ordering: .releasing)
    }
}
