internal import CCurl
internal import Glibc
internal import LinuxSystem
import Synchronization

/// A blocking HTTP client over libcurl easy handles (and, for http:// URLs, sockets of its own:
/// PlainTransport.swift), with an async bridge that never blocks the cooperative
/// pool. Idle handles are pooled, so consecutive requests reuse kept-alive connections. https uses
/// `caFile` (and an optional client certificate) with TLS 1.2 at least; idempotent requests are retried
/// after connection failures when `maxRetries` > 0.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let idleHandles = Mutex<[EasyHandle]>([])
    /// Kept-alive connections of the plain-HTTP path (PlainTransport.swift).
    let idleConnections = Mutex<[PlainConnection]>([])
    /// Where `send` goes without libcurl: an http:// base URL, unless the configuration says otherwise.
    private let plainTarget: PlainTarget?

    public init(configuration: HTTPClientConfiguration) {
        HTTPKitRuntime.initialize()
        self.configuration = configuration
        plainTarget = configuration.plainHTTPWithoutCurl ? PlainTarget(baseURL: configuration.baseURL) : nil
    }

    /// Whether requests to this base URL go through libcurl (https, or a DNS name) rather than HTTPKit's own
    /// plain-HTTP client (an address or localhost over http://): a daemon that needs it loads it early.
    public static func usesLibcurl(baseURL: String) -> Bool { PlainTarget(baseURL: baseURL) == nil }

    /// Performs one request on the calling thread. A non-2xx status is a response, not an error.
    public func send(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil,
        headers: HTTPHeaders = .init(),
        timeout: Duration? = nil
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let request = Transfer(
            method: method,
            body: body,
            headers: headers,
            timeout: timeout ?? configuration.requestTimeout
        )
        return try withRetries(method) { () throws(HTTPClientError) in
            if let plainTarget {
                return try sendPlain(plainTarget, request, path: path, url: try makeURL(path))
            }
            return try run(request, path: path, accumulator: ResponseAccumulator())
        }
    }

    /// `send` for async code: the blocking transfer runs on a thread of its own, and this task suspends.
    public func execute(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil,
        headers: HTTPHeaders = .init(),
        timeout: Duration? = nil
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        try await offloaded { () throws(HTTPClientError) in
            try self.send(method, path, body: body, headers: headers, timeout: timeout)
        }.get()
    }

    /// Streams a response body on the calling thread (log tails, event streams, long polls): each
    /// piece of a 2xx body goes to `onChunk` as it arrives (chunk boundaries are the network's, not the
    /// server's); `onChunk` returning false ends the transfer early, which is not an error. The returned
    /// response has the status and headers, and the whole body only for a non-2xx status (the error
    /// envelope); for 2xx its body is empty. No total timeout unless `timeout` is given (the connect
    /// timeout still applies). Retried like `send`, but only until a first chunk was delivered.
    public func sendStreaming(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil,
        headers: HTTPHeaders = .init(),
        timeout: Duration? = nil,
        onChunk: ([UInt8]) -> Bool
    ) throws(HTTPClientError) -> HTTPClientResponse {
        try withoutActuallyEscaping(onChunk) { (sink) throws(HTTPClientError) -> HTTPClientResponse in
            try streamTransfer(
                method,
                path,
                body: body,
                headers: headers,
                timeout: timeout,
                sink: sink,
                cancellation: nil
            )
        }
    }

    /// `sendStreaming` for async code. `onChunk` runs on the transfer's own thread, one call at a time.
    /// Cancelling the calling task ends the stream within about a second (libcurl's progress tick, or the
    /// plain-HTTP client's poll) and returns the response so far.
    public func stream(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil,
        headers: HTTPHeaders = .init(),
        timeout: Duration? = nil,
        onChunk: @escaping @Sendable ([UInt8]) -> Bool
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        let cancellation = CancellationFlag()
        let result = await withTaskCancellationHandler {
            await offloaded { () throws(HTTPClientError) in
                try self.streamTransfer(
                    method,
                    path,
                    body: body,
                    headers: headers,
                    timeout: timeout,
                    sink: onChunk,
                    cancellation: cancellation
                )
            }
        } onCancel: {
            cancellation.cancel()
        }
        return try result.get()
    }

    private func streamTransfer(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]?,
        headers: HTTPHeaders,
        timeout: Duration?,
        sink: @escaping ([UInt8]) -> Bool,
        cancellation: CancellationFlag?
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let request = Transfer(method: method, body: body, headers: headers, timeout: timeout)
        var delivered = false
        if let plainTarget {
            let url = try makeURL(path)
            let attempt = { () throws(HTTPClientError) -> HTTPClientResponse in
                let stream = PlainStream(sink: sink, cancellation: cancellation)
                defer { delivered = delivered || stream.delivered }
                return try self.sendPlain(plainTarget, request, path: path, url: url, stream: stream)
            }
            return try withRetries(method, mayRetry: { !delivered }, attempt)
        }
        let attempt = { () throws(HTTPClientError) -> HTTPClientResponse in
            let accumulator = ResponseAccumulator(sink: sink, cancellation: cancellation)
            defer { delivered = delivered || accumulator.delivered }
            return try self.run(request, path: path, accumulator: accumulator)
        }
        return try withRetries(method, mayRetry: { !delivered }, attempt)
    }

    // MARK: - Retries

    /// Runs `attempt`, retrying connection failures of idempotent methods with exponential backoff.
    private func withRetries(
        _ method: HTTPMethod,
        mayRetry: () -> Bool = { true },
        _ attempt: () throws(HTTPClientError) -> HTTPClientResponse
    ) throws(HTTPClientError) -> HTTPClientResponse {
        var retries = 0
        while true {
            do {
                return try attempt()
            } catch {
                guard error.isConnectionFailure, method.isIdempotent, retries < configuration.maxRetries, mayRetry()
                else { throw error }
                retries += 1
                let delay = Self.backoff(
                    retry: retries,
                    base: configuration.retryBaseDelay,
                    cap: configuration.maxRetryDelay
                )
                var request = timespec(tv_sec: Int(delay / 1_000_000_000), tv_nsec: Int(delay % 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            }
        }
    }

    /// Nanoseconds before retry number `retry` (1-based): base * 2^(retry-1), capped, times 0.5...1.0.
    static func backoff(retry: Int, base: Duration, cap: Duration) -> Int64 {
        let exponential = base.nanosecondsClamped.multipliedReportingOverflow(by: 1 << min(retry - 1, 30))
        let capped = min(exponential.overflow ? .max : exponential.partialValue, cap.nanosecondsClamped)
        return max(0, Int64(Double(capped) * Double.random(in: 0.5...1.0)))
    }

    // MARK: - Pool

    private func run(
        _ transfer: Transfer,
        path: String,
        accumulator: ResponseAccumulator
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let url = try makeURL(path)
        guard let handle = checkOut() else {
            let why = ccurl_load_error().map { String(cString: $0) } ?? "curl_easy_init failed"
            throw HTTPClientError(code: .transfer, message: why, url: url)
        }
        defer { checkIn(handle) }
        return try perform(handle, transfer, url: url, accumulator: accumulator)
    }

    private func checkOut() -> EasyHandle? {
        if let handle = idleHandles.withLock({ $0.popLast() }) { return handle }
        return EasyHandle()
    }

    private func checkIn(_ handle: EasyHandle) {
        let limit = configuration.maxIdleHandles
        idleHandles.withLock { pool in
            if pool.count < limit { pool.append(handle) }
        }
    }

    private func makeURL(_ path: String) throws(HTTPClientError) -> String {
        var base = Substring(configuration.baseURL)
        while base.hasSuffix("/") { base.removeLast() }
        let url = String(path.isEmpty || path.hasPrefix("/") ? base + path : base + "/" + path)
        let scheme = base.hasPrefix("http://") ? 7 : base.hasPrefix("https://") ? 8 : 0
        guard scheme > 0, base.count > scheme, !url.contains(" ") else {
            throw HTTPClientError(
                code: .invalidURL,
                message: "expected http://host:port or https://host:port",
                url: url
            )
        }
        return url
    }

    /// Runs a blocking call on a thread of LinuxSystem's pool (at most `Threads.poolLimit` at once, so a burst
    /// of thousands of requests waits its turn instead of exhausting the process) and suspends until it
    /// returns: never on the cooperative pool. A long poll holds a pool thread for its wait, so a program keeps
    /// its long polls well under the limit (an agent has one).
    private func offloaded(
        _ body: @escaping @Sendable () throws(HTTPClientError) -> HTTPClientResponse
    ) async -> Result<HTTPClientResponse, HTTPClientError> {
        await Threads.run { Result(catching: body) }
    }
}
