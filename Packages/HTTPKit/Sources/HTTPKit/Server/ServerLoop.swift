internal import Glibc
internal import LinuxSystem

/// The reactor thread's state and epoll loop: listener, connections, deadlines, shutdown. Created on the
/// reactor thread and never shared; other threads reach it only through `Reactor.submit`.
final class ServerLoop {
    static let listenerToken: UInt64 = 0
    static let wakeToken: UInt64 = 1
    static let readChunk = 64 * 1024

    let reactor: Reactor
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    /// The shared, read-only TLS context of an HTTPS server.
    let tlsContext: TLSContext?
    var listenerFD: Int32?
    var connections: [UInt64: Connection] = [:]
    var deadlines = DeadlineHeap()
    var nextID: UInt64 = 2
    /// Handler tasks started and not yet answered (their connection may be gone).
    var inFlight = 0
    var shutdownDeadline: Int64?
    /// Accepting is paused (EMFILE or maxConnections) until this instant / until a connection closes.
    var listenerPausedUntil: Int64?
    var listenerPausedForLimit = false
    let readBuffer: UnsafeMutableRawBufferPointer

    let headerTimeout: Int64
    let bodyTimeout: Int64
    let idleTimeout: Int64
    let writeTimeout: Int64
    /// Connections beyond `maxConnections` that are accepted only to be answered 503.
    let overflowAllowance: Int
    let lingerTimeout: Int64 = 2_000_000_000

    init(
        reactor: Reactor,
        listenerFD: Int32,
        configuration: HTTPServerConfiguration,
        responder: any HTTPResponder,
        tlsContext: TLSContext? = nil
    ) {
        self.reactor = reactor
        self.tlsContext = tlsContext
        self.listenerFD = listenerFD
        self.configuration = configuration
        self.responder = responder
        self.headerTimeout = configuration.headerReadTimeout.nanosecondsClamped
        self.bodyTimeout = configuration.bodyReadTimeout.nanosecondsClamped
        self.idleTimeout = configuration.idleTimeout.nanosecondsClamped
        self.writeTimeout = configuration.writeTimeout.nanosecondsClamped
        self.overflowAllowance = min(1024, max(16, configuration.maxConnections / 8))
        self.readBuffer = .allocate(byteCount: Self.readChunk, alignment: 16)
    }

    deinit {
        readBuffer.deallocate()
    }

    var shuttingDown: Bool { shutdownDeadline != nil }

    /// Runs until shutdown completes, then closes every descriptor it owns.
    func run() {
        var events = [UInt32](repeating: 0, count: 256)
        var tokens = [UInt64](repeating: 0, count: 256)
        while !(shuttingDown && connections.isEmpty) {
            let count: Int
            do {
                count = try Epoll.wait(
                    reactor.epollFD,
                    events: &events,
                    tokens: &tokens,
                    timeoutMilliseconds: nextTimeout()
                )
            } catch {
                break  // epoll itself failed (EBADF/EINVAL): nothing sensible is left to do
            }
            for index in 0..<count {
                handle(events: events[index], token: tokens[index])
            }
            expireDeadlines()
        }
        for connection in Array(connections.values) { close(connection) }
        if let listenerFD { Syscall.close(listenerFD) }
        listenerFD = nil
        reactor.close()
    }

    private func handle(events: UInt32, token: UInt64) {
        switch token {
        case Self.listenerToken:
            acceptConnections()
        case Self.wakeToken:
            for job in reactor.takeJobs() { job(self) }
        default:
            guard let connection = connections[token] else { return }
            handle(events: events, on: connection)
        }
    }

    // MARK: - Timers

    private func nextTimeout() -> Int32 {
        var next = deadlines.first?.at
        for candidate in [shutdownDeadline, listenerPausedUntil].compactMap({ $0 }) {
            next = min(next ?? candidate, candidate)
        }
        guard let next else { return -1 }
        let remaining = next - Monotonic.nanoseconds()
        if remaining <= 0 { return 0 }
        return Int32(clamping: (remaining + 999_999) / 1_000_000)
    }

    func setDeadline(_ connection: Connection, after nanoseconds: Int64?) {
        connection.deadlineGeneration &+= 1
        guard let nanoseconds else { return }
        let at = Monotonic.nanoseconds().addingReportingOverflow(nanoseconds)
        deadlines.push(
            .init(
                at: at.overflow ? .max : at.partialValue,
                id: connection.id,
                generation: connection.deadlineGeneration
            )
        )
        if deadlines.count > 2 * connections.count + 1024 {
            deadlines.compact { self.connections[$0.id]?.deadlineGeneration == $0.generation }
        }
    }

    private func expireDeadlines() {
        let now = Monotonic.nanoseconds()
        while let first = deadlines.first, first.at <= now {
            _ = deadlines.popFirst()
            if let connection = connections[first.id], connection.deadlineGeneration == first.generation {
                if connection.phase == .reading && !connection.parser.isIdle && !shuttingDown {
                    // A head or body started and stalled (slowloris): say so, then close.
                    respondAndClose(
                        .error(.requestTimeout, code: "request_timeout", message: "request not received in time"),
                        on: connection
                    )
                } else {
                    close(connection)  // idle, silent, stalled write or finished linger
                }
            }
        }
        if let until = listenerPausedUntil, until <= now {
            listenerPausedUntil = nil
            resumeListener()
        }
        if let shutdownDeadline, shutdownDeadline <= now {
            for connection in Array(connections.values) { close(connection) }
        }
    }

    // MARK: - Accepting

    private func acceptConnections() {
        guard let listenerFD else { return }
        for _ in 0..<64 {
            if connections.count >= configuration.maxConnections + overflowAllowance {
                listenerPausedForLimit = true
                pauseListener()
                return
            }
            let accepted: IOResult<(fd: Int32, peer: String)>
            do {
                accepted = try Socket.accept(listenerFD)
            } catch {
                switch error.errno {
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: back off instead of spinning on a level-triggered listener.
                    listenerPausedUntil = Monotonic.nanoseconds() + 100_000_000
                    pauseListener()
                    return
                default:
                    continue  // ECONNABORTED, EPROTO, ...: that one peer is gone
                }
            }
            guard case .processed(let (fd, peer)) = accepted else { return }
            let connection = Connection(
                id: nextID,
                fd: fd,
                remoteAddress: peer,
                parser: HTTPRequestParser(
                    maxHeaderBytes: configuration.maxHeaderBytes,
                    maxBodyBytes: configuration.maxBodyBytes,
                    maxRequestLineBytes: configuration.maxRequestLineBytes,
                    maxHeaderCount: configuration.maxHeaderCount
                ),
                interest: Epoll.readable
            )
            nextID += 1
            if let tlsContext {
                guard let session = TLSSession(context: tlsContext, fd: fd) else {
                    Syscall.close(fd)
                    continue
                }
                connection.tls = session
            }
            do {
                try Epoll.add(reactor.epollFD, fd: fd, events: Epoll.readable, token: connection.id)
            } catch {
                Syscall.close(fd)
                continue
            }
            connections[connection.id] = connection
            setDeadline(connection, after: headerTimeout)
            if connections.count > configuration.maxConnections {
                var busy = HTTPResponse.error(.serviceUnavailable, code: "unavailable", message: "too many connections")
                busy.headers.set("Retry-After", "1")
                respondAndClose(busy, on: connection)
            }
        }
    }

    private func pauseListener() {
        guard let listenerFD else { return }
        try? Epoll.modify(reactor.epollFD, fd: listenerFD, events: 0, token: Self.listenerToken)
    }

    private func resumeListener() {
        guard let listenerFD, listenerPausedUntil == nil, !listenerPausedForLimit else { return }
        try? Epoll.modify(reactor.epollFD, fd: listenerFD, events: Epoll.readable, token: Self.listenerToken)
    }

    func close(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        connection.isClosed = true
        connection.deadlineGeneration &+= 1
        connection.handlerTask?.cancel()
        connection.handlerTask = nil
        connection.stream?.close()
        connection.stream = nil
        Epoll.remove(reactor.epollFD, fd: connection.fd)
        connection.tls = nil  // SSL_free before the descriptor goes
        Syscall.close(connection.fd)
        if listenerPausedForLimit && connections.count < configuration.maxConnections + overflowAllowance {
            listenerPausedForLimit = false
            resumeListener()
        }
    }

    // MARK: - Shutdown

    /// Stops accepting, closes connections that are between requests, and lets in-flight responses finish
    /// (each then closes) until the grace period ends.
    func beginShutdown() {
        guard !shuttingDown else { return }
        shutdownDeadline = Monotonic.nanoseconds() + configuration.shutdownGracePeriod.nanosecondsClamped
        if let listenerFD {
            Epoll.remove(reactor.epollFD, fd: listenerFD)
            Syscall.close(listenerFD)
        }
        listenerFD = nil
        for connection in Array(connections.values) {
            switch connection.phase {
            case .reading, .lingering:
                close(connection)
            case .awaitingResponse, .writing, .streaming:
                connection.closeAfterWrite = true
            }
        }
    }
}

@available(*, unavailable)
extension ServerLoop: Sendable {}
