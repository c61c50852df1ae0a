internal import Glibc
internal import LinuxSystem
import Synchronization

/// The thread-safe face of the server's event loop: the epoll and eventfd descriptors and an inbox of jobs.
/// Any thread may `submit` a job; the reactor thread runs it with the loop's state, which never leaves that
/// thread. This is NIO's SelectableEventLoop wake-up design in miniature.
final class Reactor: Sendable {
    typealias Job = @Sendable (ServerLoop) -> Void

    private struct Inbox {
        var jobs: [Job] = []
        var closed = false
    }

    let epollFD: Int32
    let wakeFD: Int32
    private let inbox = Mutex(Inbox())

    init(epollFD: Int32, wakeFD: Int32) {
        self.epollFD = epollFD
        self.wakeFD = wakeFD
    }

    /// Queues `job` for the reactor thread; false (and the job is dropped) once the loop has stopped.
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        inbox.withLock { inbox in
            guard !inbox.closed else { return false }
            inbox.jobs.append(job)
            // Only the first job needs a wake-up; the loop takes the whole batch. Signalling under the lock
            // guarantees the eventfd is still open (close() takes the same lock).
            if inbox.jobs.count == 1 { EventFD.signal(wakeFD) }
            return true
        }
    }

    /// Takes every queued job (reactor thread).
    func takeJobs() -> [Job] {
        EventFD.drain(wakeFD)
        return inbox.withLock { inbox in
            defer { inbox.jobs = [] }
            return inbox.jobs
        }
    }

    /// Refuses further jobs and closes both descriptors (reactor thread, when the loop exits).
    func close() {
        inbox.withLock { inbox in
            inbox.closed = true
            inbox.jobs = []
            Syscall.close(wakeFD)
        }
        Syscall.close(epollFD)
    }
}
