internal import CLinuxShims
import Synchronization

/// An HTTP/1.1 server: one epoll reactor thread owns every socket; each complete request runs the responder
/// in its own `Task`, so idle connections and long polls cost no thread.
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
        var reactor: Reactor?
        var waiters: [CheckedContinuation<Void, Never>] = []
        var threadID: Int32 = 0
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
            let tlsContext = try config.tls.map { tls throws(HTTPServerError) in try TLSContext(tls) }
            let listener = try Socket.listen(host: config.host, port: config.port, backlog: config.backlog)
            var opened: [Int32] = [listener]
            do throws(POSIXCallError) {
                let port = try Socket.localPort(listener)
                let epollFD = try Epoll.create()
                opened.append(epollFD)
                let wakeFD = try EventFD.create()
                opened.append(wakeFD)
                try Epoll.add(epollFD, fd: listener, events: Epoll.readable, token: ServerLoop.listenerToken)
                try Epoll.add(epollFD, fd: wakeFD, events: Epoll.readable, token: ServerLoop.wakeToken)
                let reactor = Reactor(epollFD: epollFD, wakeFD: wakeFD)
                let responder = self.responder
                try ReactorThread.spawn(name: "corral-http") { [weak self] in
                    self?.state.withLock { $0.threadID = clinux_gettid() }
                    let loop = ServerLoop(
                        reactor: reactor,
                        listenerFD: listener,
                        configuration: config,
                        responder: responder,
                        tlsContext: tlsContext
                    )
                    loop.run()
                    self?.didStop()
                }
                state.phase = .running
                state.port = port
                state.reactor = reactor
            } catch {
                for fd in opened { Syscall.close(fd) }
                let address = "\(config.host):\(config.port)"
                throw HTTPServerError(message: "cannot start HTTP server on \(address): \(error.message)", cause: error)
            }
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
                state.reactor?.submit { loop in loop.beginShutdown() }
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

    /// The kernel thread id of the reactor thread (0 until it runs); for tests.
    var reactorThreadID: Int32 { state.withLock { $0.threadID } }

    private func didStop() {
        let waiters = state.withLock { state in
            state.phase = .stopped
            state.reactor = nil
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
