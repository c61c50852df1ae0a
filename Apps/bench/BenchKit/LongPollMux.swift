internal import CLinuxShims
internal import Glibc
internal import LinuxSystem
import Synchronization

/// The long polls of every simulated agent on one thread: a nonblocking keep-alive connection per node, epoll,
/// and the smallest HTTP/1.1 exchange the controller's assignments route needs (a GET; a response with a
/// Content-Length). A real agent long-polls on a connection of its own, as each node does here; a libcurl
/// transfer on a thread per node does not scale to 10,000 nodes in one process (libcurl holds three
/// descriptors a transfer, the process 20,000 at most, and libdispatch aborts when it cannot open /proc).
final class LongPollMux: @unchecked Sendable {
    /// One node's poll: sent again as soon as its answer came. `onAnswer` gets the body of a 200, nil for
    /// anything else (it runs on the mux's thread, so it must be quick).
    struct Poll: Sendable {
        let path: String
        let token: String
        let onAnswer: @Sendable ([UInt8]?) -> Void
    }

    /// Touched only by the loop's thread (hence `@unchecked Sendable` for the whole).
    private final class Connection {
        let poll: Poll
        let request: [UInt8]
        var fd: Int32 = -1
        var written = 0
        var input: [UInt8] = []
        var retryAt: Int64 = 0

        init(_ poll: Poll) {
            self.poll = poll
            request = Array(
                "GET \(poll.path) HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer \(poll.token)\r\n\r\n".utf8
            )
        }
    }

    private var address = sockaddr_in()
    private let epfd: Int32
    private let added = Mutex<[Poll]>([])
    private let stopped = Atomic<Bool>(false)
    private var connections: [Int32: Connection] = [:]
    private var waiting: [Connection] = []

    /// `endpoint`: http://IPv4:port, as the controller's endpoint file has it.
    init(endpoint: String) throws {
        let bare = endpoint.hasPrefix("http://") ? endpoint.dropFirst("http://".count) : endpoint[...]
        let hostPort = bare.split(separator: "/").first ?? ""
        let parts = hostPort.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            throw BenchError("long polls need an http://IPv4:port endpoint, not \(endpoint)")
        }
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &address.sin_addr) == 1 else {
            throw BenchError("long polls need an IPv4 address, not \(parts[0])")
        }
        epfd = clinux_epoll_create1(CLINUX_EPOLL_CLOEXEC)
        guard epfd >= 0 else { throw BenchError("epoll_create1 failed: errno \(errno)") }
        try Threads.start(name: "fleet-polls") { self.loop() }
    }

    func add(_ poll: Poll) {
        added.withLock { $0.append(poll) }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func loop() {
        var events = [UInt32](repeating: 0, count: 1024)
        var tokens = [UInt64](repeating: 0, count: 1024)
        while !stopped.load(ordering: .relaxed) {
            for poll in added.withLock({ polls in
                defer { polls = [] }
                return polls
            }) { open(Connection(poll)) }
            let now = Monotonic.nanoseconds()
            let due = waiting.filter { $0.retryAt <= now }
            waiting.removeAll { $0.retryAt <= now }
            for connection in due { open(connection) }
            let count = events.withUnsafeMutableBufferPointer { eventBuffer in
                tokens.withUnsafeMutableBufferPointer { tokenBuffer in
                    clinux_epoll_wait(epfd, eventBuffer.baseAddress, tokenBuffer.baseAddress, 1024, 50)
                }
            }
            for index in 0..<max(0, Int(count)) {
                let fd = Int32(truncatingIfNeeded: tokens[index])
                guard let connection = connections[fd] else { continue }
                if events[index] & CLINUX_EPOLLOUT != 0 { flush(connection) }
                // A failed write dropped it: its descriptor is closed (and may be another's by now).
                guard connections[fd] === connection else { continue }
                if events[index] & (CLINUX_EPOLLIN | CLINUX_EPOLLERR | CLINUX_EPOLLHUP) != 0 { read(connection) }
            }
        }
        for connection in connections.values { close(connection.fd) }
        close(epfd)
    }

    private func open(_ connection: Connection) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return retry(connection, failed: true) }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 || errno == EINPROGRESS else {
            close(fd)
            return retry(connection, failed: true)
        }
        connection.fd = fd
        connection.written = 0
        connection.input = []
        connections[fd] = connection
        if clinux_epoll_ctl(epfd, CLINUX_EPOLL_CTL_ADD, fd, CLINUX_EPOLLIN | CLINUX_EPOLLOUT, UInt64(fd)) != 0 {
            drop(connection, failed: true)
        }
    }

    /// Writes what is left of the request; once it is all out, waits for the answer only.
    private func flush(_ connection: Connection) {
        while connection.written < connection.request.count {
            let sent = connection.request[connection.written...].withUnsafeBytes {
                send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                return drop(connection, failed: true)
            }
            connection.written += sent
        }
        _ = clinux_epoll_ctl(epfd, CLINUX_EPOLL_CTL_MOD, connection.fd, CLINUX_EPOLLIN, UInt64(connection.fd))
    }

    private func read(_ connection: Connection) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let got = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
            if got > 0 {
                connection.input += buffer[0..<got]
                continue
            }
            if got < 0 && (errno == EAGAIN || errno == EINTR) { break }
            // Closed by the controller (or failed), perhaps right after a whole answer: that answer counts,
            // and a keep-alive that ended between polls is not a failure.
            let answered = deliver(connection)
            return drop(connection, failed: !answered && (!connection.input.isEmpty || got < 0))
        }
        guard deliver(connection) else { return }
        connection.written = 0
        _ = clinux_epoll_ctl(
            epfd,
            CLINUX_EPOLL_CTL_MOD,
            connection.fd,
            CLINUX_EPOLLIN | CLINUX_EPOLLOUT,
            UInt64(connection.fd)
        )
    }

    /// Hands a whole answer at the start of the input to the poll; false while there is none.
    private func deliver(_ connection: Connection) -> Bool {
        guard let (status, body, used) = Self.response(connection.input) else { return false }
        connection.input.removeFirst(used)
        connection.poll.onAnswer(status == 200 ? body : nil)
        return true
    }

    private func drop(_ connection: Connection, failed: Bool) {
        guard connection.fd >= 0 else { return }
        _ = clinux_epoll_ctl(epfd, CLINUX_EPOLL_CTL_DEL, connection.fd, 0, 0)
        close(connection.fd)
        connections[connection.fd] = nil
        connection.fd = -1
        retry(connection, failed: failed)
    }

    private func retry(_ connection: Connection, failed: Bool) {
        if failed { connection.poll.onAnswer(nil) }
        connection.retryAt = Monotonic.nanoseconds() + (failed ? 200_000_000 : 0)
        waiting.append(connection)
    }

    /// A whole response at the start of `bytes`: its status, its body and how many bytes it took; nil while
    /// it is incomplete. Only Content-Length bodies, which is what the controller sends here.
    static func response(_ bytes: [UInt8]) -> (Int, [UInt8], Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
            let end = (0...(bytes.count - 4)).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) })
        else { return nil }
        let head = String(decoding: bytes[0..<end], as: UTF8.self).lowercased()
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
            let status = Int(statusLine.split(separator: " ")[1])
        else { return (0, [], bytes.count) }
        let header = lines.dropFirst().first { $0.hasPrefix("content-length:") }
        let length = header.map {
            Int(String($0.dropFirst("content-length:".count).filter { $0 != " " && $0 != "\t" }))
        }
        // A length no answer of the controller's has (unreadable, negative, past 64 MiB) is a garbled response.
        guard let length = length ?? 0, (0...(64 << 20)).contains(length) else { return (0, [], bytes.count) }
        let total = end + 4 + length
        guard bytes.count >= total else { return nil }
        return (status, Array(bytes[(end + 4)..<total]), total)
    }
}
