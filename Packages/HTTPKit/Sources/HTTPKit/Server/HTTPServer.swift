internal import CLinuxShims
internal import LinuxSystem
import Synchronization

/// An HTTP/1.1 server: epoll reactor threads (`eventLoops`, each owning its connections) multiplex every
/// socket; each complete request runs the responder in its own `Task`, so idle connections and long polls cost
/// no thread.
///
/// ```swift
/// let server = HTTPServer(configuration: config, responder: router)
/// try server.start()
/// ...
/// server.shutdown()
/// await server.waitUntilStopped()
/// ```
public final class HTTPServer: Sendable {
    private enum Phase {
        case idle
        case running
        case stopping
        case stopped
    }

    private struct State {
        var phase = Phase.idle
        var port = 0
        var reactors: [Reactor] = []
        var running = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var threadIDs: [Int32] = []
    }

    public let configuration: HTTPServerConfiguration
    private let responder: any HTTPResponder
    private let state = Mutex(State())

    public init(configuration: HTTPServerConfiguration, responder: any HTTPResponder) {
        self.configuration = configuration
        self.responder = responder
    }

    deinit {
        shutdown()
    }

    /// Binds and listens (SO_REUSEADDR), then starts the reactor thread. Throws `HTTPServerError` naming
    /// host:port (for example when the address is in use). A server starts at most once.
    public func start() throws {
        HTTPKitRuntime.initialize()
        try state.withLock { state throws(HTTPServerError) in
            guard state.phase == .idle else { throw HTTPServerError(message: "HTTPServer.start() called twice") }
            let config = configuration
            let loops = max(1, min(config.eventLoops, 64))
            let tlsContext = try config.tls.map { tls throws(HTTPServerError) in try TLSContext(tls) }
            let address = "\(config.host):\(config.port)"
            func posix<T>(_ body: () throws(POSIXCallError) -> T) throws(HTTPServerError) -> T {
                do {
                    return try body()
                } catch {
                    throw HTTPServerError(
                        message: "cannot start HTTP server on \(address): \(error.message)",
                        cause: error
                    )
                }
            }
            var opened: [Int32] = []
            var prepared: [(listener: Int32, reactor: Reactor)] = []
            var port = config.port
            do throws(HTTPServerError) {
                for _ in 0..<loops {
                    let listener = try Socket.listen(
                        host: config.host,
                        port: port,
                        backlog: config.backlog,
                        reusePort: loops > 1
                    )
                    opened.append(listener)
                    // The later loops bind the port the first one got.
                    port = try posix { () throws(POSIXCallError) in try Socket.localPort(listener) }
                    let epollFD = try posix { () throws(POSIXCallError) in try Epoll.create() }
                    opened.append(epollFD)
                    let wakeFD = try posix { () throws(POSIXCallError) in try EventFD.create() }
                    opened.append(wakeFD)
                    try posix { () throws(POSIXCallError) in
                        try Epoll.add(epollFD, fd: listener, events: Epoll.readable, token: ServerLoop.listenerToken)
                        try Epoll.add(epollFD, fd: wakeFD, events: Epoll.readable, token: ServerLoop.wakeToken)
                    }
                    prepared.append((listener, Reactor(epollFD: epollFD, wakeFD: wakeFD)))
                }
                let responder = self.responder
                for (index, loop) in prepared.enumerated() {
                    try posix { () throws(POSIXCallError) in
                        let name = loops > 1 ? "\(config.threadName)-\(index)" : config.threadName
                        try Threads.start(name: name) {
                            [weak self] in
                            self?.state.withLock { $0.threadIDs.append(clinux_gettid()) }
                            let serverLoop = ServerLoop(
                                reactor: loop.reactor,
                                listenerFD: loop.listener,
                                configuration: config,
                                responder: responder,
                                tlsContext: tlsContext
                            )
                            serverLoop.run()
                            self?.didStop()
                        }
                    }
                    state.running += 1
                }
            } catch {
                // Loops already running own their descriptors; stop them, and close the rest.
                if state.running == 0 {
                    for fd in opened { Syscall.close(fd) }
                } else {
                    state.phase = .stopping
                    state.reactors = prepared.map(\.reactor)
                    for reactor in state.reactors { reactor.submit { loop in loop.beginShutdown() } }
                }
                throw error
            }
            state.phase = .running
            state.port = port
            state.reactors = prepared.map(\.reactor)
        }
    }

    /// The bound port (the ephemeral one when configured with 0); 0 before `start()`.
    public var port: Int { state.withLock { $0.port } }

    /// Stops accepting, lets in-flight responses finish within `shutdownGracePeriod`, closes connections and
    /// ends the reactor thread. Returns at once; `waitUntilStopped()` waits for the end.
    public func shutdown() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            switch state.phase {
            case .idle:
                state.phase = .stopped
                defer { state.waiters = [] }
                return state.waiters
            case .running:
                state.phase = .stopping
                for reactor in state.reactors { reactor.submit { loop in loop.beginShutdown() } }
                return []
            case .stopping, .stopped:
                return []
            }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the reactor thread has exited (at once if the server is not running).
    public func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                switch state.phase {
                case .idle, .stopped:
                    return true
                case .running, .stopping:
                    state.waiters.append(continuation)
                    return false
                }
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// The kernel thread id of the first reactor thread (0 until it runs); for tests.
    var reactorThreadID: Int32 { state.withLock { $0.threadIDs.first ?? 0 } }

    /// The kernel thread ids of every reactor thread that has started; for tests.
    var reactorThreadIDs: [Int32] { state.withLock { $0.threadIDs } }

    private func didStop() {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.running -= 1
            guard state.running <= 0 else { return [] }
            state.phase = .stopped
            state.reactors = []
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
