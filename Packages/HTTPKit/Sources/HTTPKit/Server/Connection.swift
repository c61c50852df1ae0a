/// Per-connection state. Lives only on the reactor thread (owned by `ServerLoop.connections`).
final class Connection {
    enum Phase {
        /// Reading (or waiting for) the next request.
        case reading
        /// A handler task is running; no further requests are read (pipelining is served in order).
        case awaitingResponse
        /// Flushing a response; EPOLLOUT is armed while the socket buffer is full.
        case writing
        /// A streamed response's producer is running; its chunks are flushed as they come.
        case streaming
        /// After a closing response: write side shut, discarding input briefly so that the kernel does not
        /// reset the connection (and drop the response) because of unread bytes.
        case lingering
    }

    let id: UInt64
    let fd: Int32
    /// Set by `ServerLoop.close`: the descriptor is closed and its number may already belong to another
    /// socket, so nothing may read, write or re-arm it any more (a stale read would steal another
    /// connection's bytes).
    var isClosed = false
    let remoteAddress: String
    var parser: HTTPRequestParser
    var phase = Phase.reading
    var output: [UInt8] = []
    var outputOffset = 0
    var closeAfterWrite = false
    /// Of the request being answered.
    var keepAlive = true
    var headRequest = false
    var http10 = false
    /// The epoll events currently registered.
    var interest: UInt32
    /// Bumped whenever the deadline changes; heap entries with an older generation are stale.
    var deadlineGeneration: UInt64 = 0
    /// When the head of the current request started arriving (slowloris deadline base).
    var requestStartedAt: Int64?
    /// The handler's (then the stream producer's) task, cancelled if the connection closes first.
    var handlerTask: Task<Void, Never>?
    /// The writer of the response being streamed.
    var stream: ResponseBodyWriter?
    /// Stream bytes in `output` not yet acknowledged to the writer.
    var streamQueued = 0
    /// The TLS state of an HTTPS connection; nil for plain HTTP.
    var tls: TLSSession?

    init(id: UInt64, fd: Int32, remoteAddress: String, parser: HTTPRequestParser, interest: UInt32) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.parser = parser
        self.interest = interest
    }

    var hasPendingOutput: Bool { outputOffset < output.count }
}

@available(*, unavailable)
extension Connection: Sendable {}
