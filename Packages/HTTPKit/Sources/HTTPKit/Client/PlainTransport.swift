internal import Glibc
internal import LinuxSystem
internal import Synchronization

/// `HTTPClient` requests to an `http://` URL without libcurl (issue 16): loading libcurl and the thirty libraries
/// it links was half of a `corral submit`'s CPU samples (`perf`, docs/PERFORMANCE.md). One blocking socket per request in flight, kept
/// alive for the next one (at most `maxIdleHandles` idle), each wait bounded by poll against the request's
/// deadline; streams hand 2xx bodies to their sink as they come. https stays on libcurl.
struct PlainTarget: Sendable {
    var host: String
    var port: Int
    /// The Host header: the authority as the URL spells it.
    var authority: String
    /// A path prefix of the base URL ("" for none).
    var prefix: String

    /// From "http://host[:port][/prefix]"; nil for anything else (https, user info, a query...), which
    /// libcurl then handles.
    init?(baseURL: String) {
        guard baseURL.hasPrefix("http://") else { return nil }
        var rest = Substring(baseURL.dropFirst(7))
        while rest.hasSuffix("/") { rest.removeLast() }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        prefix = String(rest[slash...])
        guard !authority.isEmpty, !authority.contains("@"), !prefix.contains("?"), !prefix.contains("#"),
            !baseURL.utf8.contains(where: { $0 <= 32 || $0 >= 127 })
        else { return nil }
        var hostPart: Substring
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portPart = after.dropFirst()
            }
        } else {
            let pieces = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { return nil }
            hostPart = pieces[0]
            portPart = pieces.count == 2 ? pieces[1] : nil
        }
        let port = portPart.map { Int($0) } ?? 80
        guard !hostPart.isEmpty, let port, (1...65535).contains(port) else { return nil }
        // Only an address or localhost (/etc/hosts): a DNS name goes to libcurl, whose lookup runs on a thread
        // of its own within the connect timeout and is cached, where getaddrinfo here could block a heartbeat
        // for the resolver's own retries.
        guard Self.isLiteralOrLocal(String(hostPart)) else { return nil }
        host = String(hostPart)
        self.port = port
        self.authority = String(authority)
    }
}

extension PlainTarget {
    static func isLiteralOrLocal(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// A streamed response's receiver (`HTTPClient.stream` over plain HTTP): the bytes of a 2xx body go to `sink`
/// as they arrive; the caller's cancellation is looked at at least once a second. Used by one transfer's thread.
final class PlainStream: @unchecked Sendable {
    let sink: ([UInt8]) -> Bool
    let cancellation: CancellationFlag?
    /// Some body bytes reached the sink (a stream is then never retried).
    var delivered = false

    init(sink: @escaping ([UInt8]) -> Bool, cancellation: CancellationFlag?) {
        self.sink = sink
        self.cancellation = cancellation
    }

    var isCancelled: Bool { cancellation?.isCancelled == true }
}

/// One kept-alive connection.
final class PlainConnection: @unchecked Sendable {
    let fd: Int32
    /// Carried a request before: a failure before any byte of the answer may be the server having closed it
    /// while idle, so the request goes again on a new connection (what libcurl does).
    var reused = false

    init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

extension HTTPClient {
    /// One request over plain HTTP: a kept-alive connection when there is one (retried once on a new
    /// connection if it turns out closed), else a new one.
    func sendPlain(
        _ target: PlainTarget,
        _ transfer: Transfer,
        path: String,
        url: String,
        stream: PlainStream? = nil
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let deadline = transfer.timeout.map { ContinuousClock.now + $0 }
        let request = try plainRequest(target, transfer, path: path, url: url)
        if let connection = idleConnections.withLock({ $0.popLast() }) {
            do {
                return try exchange(connection, request, transfer, deadline: deadline, url: url, stream: stream)
            } catch is StaleConnection {
                // Closed while idle: once more, on a new connection.
            } catch {
                throw Self.clientError(error, url: url)
            }
        }
        let connection = try connect(target, url: url, deadline: deadline)
        do {
            return try exchange(connection, request, transfer, deadline: deadline, url: url, stream: stream)
        } catch {
            throw Self.clientError(error, url: url)
        }
    }

    private static func clientError(_ error: any Error, url: String) -> HTTPClientError {
        switch error {
        case let error as HTTPClientError: error
        case let stale as StaleConnection: stale.error
        default: HTTPClientError(code: .transfer, message: "\(error)", url: url)
        }
    }

    private struct StaleConnection: Error { var error: HTTPClientError }

    private func plainRequest(
        _ target: PlainTarget,
        _ transfer: Transfer,
        path: String,
        url: String
    ) throws(HTTPClientError) -> [UInt8] {
        let resource = target.prefix + (path.isEmpty || path.hasPrefix("/") ? path : "/" + path)
        // A control character, space or non-ASCII byte in the path would end the request line early (a header
        // or a second request smuggled in): refused as libcurl refuses such a URL.
        guard !resource.utf8.contains(where: { $0 <= 32 || $0 >= 127 }) else {
            throw HTTPClientError(code: .invalidURL, message: "the path has characters a URL cannot carry", url: url)
        }
        var head = "\(transfer.method.rawValue) \(resource.isEmpty ? "/" : resource) HTTP/1.1\r\n"
        var outgoing = HTTPHeaders()
        outgoing.add("Host", target.authority)
        outgoing.add("User-Agent", configuration.userAgent)
        if let token = configuration.bearerToken, !transfer.headers.contains("Authorization") {
            outgoing.add("Authorization", "Bearer \(token)")
        }
        for (name, value) in transfer.headers { outgoing.add(name, value) }
        let method = transfer.method
        let hasBody = transfer.body != nil || method == .post || method == .put || method == .patch
        if transfer.body != nil, !transfer.headers.contains("Content-Type") {
            outgoing.add("Content-Type", "application/json")
        }
        if hasBody { outgoing.set("Content-Length", String(transfer.body?.count ?? 0)) }
        for (name, value) in outgoing {
            // A header that would end the line early could smuggle another header or request.
            guard !name.isEmpty, !name.utf8.contains(where: { $0 <= 32 || $0 == 58 || $0 >= 127 }),
                !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 })
            else {
                throw HTTPClientError(code: .invalidURL, message: "header \(name) cannot be sent as given", url: url)
            }
            head += "\(name): \(value)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + (transfer.body ?? [])
    }

    private func connect(
        _ target: PlainTarget,
        url: String,
        deadline: ContinuousClock.Instant?
    ) throws(HTTPClientError) -> PlainConnection {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(target.host, String(target.port), &hints, &result)
        guard status == 0, result != nil else {
            var error = HTTPClientError(
                code: .couldNotConnect,
                message: "Could not resolve host: \(target.host)",
                url: url
            )
            error.isConnectionFailure = true
            throw error
        }
        defer { freeaddrinfo(result) }
        let connectDeadline = min(
            ContinuousClock.now + configuration.connectTimeout,
            deadline ?? ContinuousClock.now + configuration.connectTimeout
        )
        var lastErrno: Int32 = ECONNREFUSED
        var entry = result
        while let address = entry?.pointee {
            entry = address.ai_next
            let fd = socket(address.ai_family, address.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                lastErrno = errno
                continue
            }
            let connection = PlainConnection(fd: fd)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) == 0 { return connection }
            guard errno == EINPROGRESS else {
                lastErrno = errno
                continue
            }
            switch wait(fd, events: Int16(POLLOUT), until: connectDeadline) {
            case .ready:
                var failure: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
                if failure == 0 { return connection }
                lastErrno = failure
            case .timedOut, .cancelled:
                let error = HTTPClientError(
                    code: .timedOut,
                    message: "could not connect within \(configuration.connectTimeout)",
                    url: url
                )
                throw error
            }
        }
        var error = HTTPClientError(code: .couldNotConnect, message: String(cString: strerror(lastErrno)), url: url)
        error.isConnectionFailure = true
        throw error
    }

    /// Sends the request and reads the answer; a kept-alive connection that fails before any byte of it came
    /// back throws `StaleConnection`.
    private func exchange(
        _ connection: PlainConnection,
        _ request: [UInt8],
        _ transfer: Transfer,
        deadline: ContinuousClock.Instant?,
        url: String,
        stream: PlainStream?
    ) throws -> HTTPClientResponse {
        var parser = ResponseParser(isHead: transfer.method == .head)
        let wasReused = connection.reused
        connection.reused = true
        // A connection failure (an idempotent request may be retried) unless part of the answer came: a body cut
        // short is libcurl's PARTIAL_FILE, not a failure to connect.
        func broken(_ message: String, connectionFailure: Bool = true) -> any Error {
            var error = HTTPClientError(code: .transfer, message: message, url: url)
            error.isConnectionFailure = connectionFailure
            return wasReused && !parser.sawBytes ? StaleConnection(error: error) : error
        }
        // What a cancelled or stopped stream returns: the response so far; the connection is not used again.
        func soFar() -> HTTPClientResponse {
            HTTPClientResponse(status: parser.status, headers: parser.headers, body: [])
        }
        let cancelled = { stream?.isCancelled == true }
        func timedOut() -> HTTPClientError {
            HTTPClientError(code: .timedOut, message: "no complete response within \(transfer.timeout!)", url: url)
        }
        var sent = 0
        var writeFailure: String?
        while sent < request.count && writeFailure == nil {
            let outcome: IOResult<Int>
            do {
                outcome = try request.withUnsafeBytes { raw in
                    try Socket.write(connection.fd, UnsafeRawBufferPointer(rebasing: raw[sent...]))
                }
            } catch {
                // The server may have answered and closed before taking the whole request (a 413 for a body
                // over its limit): that answer, if it came, is the caller's, not the broken pipe.
                writeFailure = "send failed: \(Self.reason(error))"
                break
            }
            switch outcome {
            case .processed(let count): sent += count
            case .wouldBlock:
                switch wait(connection.fd, events: Int16(POLLOUT), until: deadline, cancelled: cancelled) {
                case .ready: break
                case .timedOut: throw timedOut()
                case .cancelled: return soFar()
                }
            }
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let outcome: IOResult<Int>
            do {
                outcome = try buffer.withUnsafeMutableBytes { raw in try Socket.read(connection.fd, into: raw) }
            } catch {
                throw broken(writeFailure ?? "recv failed: \(Self.reason(error))")
            }
            let step: ResponseParser.Step
            switch outcome {
            case .processed(0):
                step = parser.end()
                if case .error(let message) = step {
                    throw broken(writeFailure ?? message, connectionFailure: !parser.sawBytes)
                }
            case .processed(let count):
                step = parser.feed(buffer[..<count])
            case .wouldBlock:
                switch wait(connection.fd, events: Int16(POLLIN), until: deadline, cancelled: cancelled) {
                case .ready: continue
                case .timedOut: throw timedOut()
                case .cancelled: return soFar()
                }
            }
            if let stream, (200..<300).contains(parser.status) {
                if case .error = step {
                } else {
                    let bytes = parser.takeBody()
                    if !bytes.isEmpty {
                        stream.delivered = true
                        if stream.isCancelled || !stream.sink(bytes) { return soFar() }
                    }
                }
            }
            switch step {
            case .needMore: continue
            case .error(let message): throw HTTPClientError(code: .transfer, message: message, url: url)
            case .complete(let reusable):
                if reusable && writeFailure == nil {
                    let limit = configuration.maxIdleHandles
                    idleConnections.withLock { if $0.count < limit { $0.append(connection) } }
                }
                return HTTPClientResponse(status: parser.status, headers: parser.headers, body: parser.body)
            }
        }
    }

    private static func reason(_ error: any Error) -> String {
        (error as? POSIXCallError).map { String(cString: strerror($0.errno)) } ?? "\(error)"
    }

    private enum Readiness { case ready, timedOut, cancelled }

    /// Waits until the socket is ready for `events` (or has failed: the next call says how), the deadline, or
    /// the caller's cancellation (looked at every second).
    private func wait(
        _ fd: Int32,
        events: Int16,
        until deadline: ContinuousClock.Instant?,
        cancelled: () -> Bool = { false }
    ) -> Readiness {
        while true {
            if cancelled() { return .cancelled }
            var milliseconds: Int32 = 1000
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero { return .timedOut }
                milliseconds = min(1000, Int32(clamping: max(1, left.millisecondsRoundedUp)))
            }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return .ready }
            if ready == 0 { continue }  // the deadline check above ends it
            if errno != EINTR { return .ready }
        }
    }
}
