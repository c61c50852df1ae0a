internal import CCurl
import Dispatch
internal import Glibc
import Synchronization

/// A blocking HTTP client over libcurl easy handles, with an async bridge that never blocks the cooperative
/// pool. Idle handles are pooled, so consecutive requests reuse kept-alive connections.
public final class HTTPClient: Sendable {
    public let configuration: HTTPClientConfiguration
    private let idleHandles = Mutex<[EasyHandle]>([])

    public init(configuration: HTTPClientConfiguration) {
        HTTPKitRuntime.initialize()
        self.configuration = configuration
    }

    /// Performs one request on the calling thread. A non-2xx status is a response, not an error.
    public func send(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil,
        headers: HTTPHeaders = .init(),
        timeout: Duration? = nil
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let url = try makeURL(path)
        guard let handle = checkOut() else {
            throw HTTPClientError(code: .transfer, message: "curl_easy_init failed", url: url)
        }
        defer { checkIn(handle) }
        return try perform(
            handle,
            method: method,
            url: url,
            body: body,
            headers: headers,
            timeout: timeout ?? configuration.requestTimeout
        )
    }

    /// `send` for async code: the blocking transfer runs on a Dispatch thread, and this task suspends.
    public func execute(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil,
        headers: HTTPHeaders = .init(),
        timeout: Duration? = nil
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
            // A fresh serial queue per call: serial queues run on libdispatch's overcommit pool, which adds
            // threads while others block, whereas a concurrent queue is capped near the core count (a 25 s
            // long poll would then starve every other request).
            DispatchQueue(label: "corral.httpclient.request").async {
                continuation.resume(
                    returning: Result { () throws(HTTPClientError) in
                        try self.send(method, path, body: body, headers: headers, timeout: timeout)
                    }
                )
            }
        }
        return try result.get()
    }

    // MARK: - Pool

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

    // MARK: - Transfer

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

    private func perform(
        _ handle: EasyHandle,
        method: HTTPMethod,
        url: String,
        body: [UInt8]?,
        headers: HTTPHeaders,
        timeout: Duration
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let curl = handle.raw
        curl_easy_reset(curl)  // keeps the connection cache: that is the reuse
        handle.errorBuffer[0] = 0
        _ = ccurl_setopt_ptr(curl, CURLOPT_ERRORBUFFER, handle.errorBuffer)
        _ = ccurl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(
            curl,
            CURLOPT_CONNECTTIMEOUT_MS,
            max(1, configuration.connectTimeout.millisecondsRoundedUp)
        )
        _ = ccurl_setopt_long(curl, CURLOPT_TIMEOUT_MS, max(1, timeout.millisecondsRoundedUp))
        _ = ccurl_setopt_long(curl, CURLOPT_TCP_KEEPALIVE, 1)
        setString(curl, CURLOPT_URL, url)
        setString(curl, CURLOPT_PROTOCOLS_STR, "http,https")
        setString(curl, CURLOPT_USERAGENT, configuration.userAgent)
        if let caFile = configuration.caFile { setString(curl, CURLOPT_CAINFO, caFile) }

        switch method {
        case .get:
            _ = ccurl_setopt_long(curl, CURLOPT_HTTPGET, 1)
        case .head:
            _ = ccurl_setopt_long(curl, CURLOPT_NOBODY, 1)
        default:
            setString(curl, CURLOPT_CUSTOMREQUEST, method.rawValue)
        }
        if body != nil || method == .post || method == .put || method == .patch {
            let bytes = body ?? []
            _ = ccurl_setopt_off_t(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
            // COPYPOSTFIELDS copies, so the array need not outlive this call; it needs a non-null pointer.
            (bytes.isEmpty ? [0] : bytes).withUnsafeBytes { raw in
                _ = ccurl_setopt_ptr(curl, CURLOPT_COPYPOSTFIELDS, raw.baseAddress)
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        var outgoing = headers
        if let token = configuration.bearerToken, !outgoing.contains("Authorization") {
            outgoing.add("Authorization", "Bearer \(token)")
        }
        if body != nil, !outgoing.contains("Content-Type") { outgoing.add("Content-Type", "application/json") }
        for (name, value) in outgoing {
            // libcurl reads "Name:" as "remove this header"; "Name;" sends it with an empty value.
            list = curl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        list = curl_slist_append(list, "Expect:")  // drop "Expect: 100-continue": no extra round trip
        _ = ccurl_setopt_ptr(curl, CURLOPT_HTTPHEADER, UnsafeRawPointer(list))

        let accumulator = ResponseAccumulator()
        let context = Unmanaged.passUnretained(accumulator).toOpaque()
        _ = ccurl_setopt_write_callback(curl) { buffer, size, count, context in
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            if let buffer { accumulator.body.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length)) }
            return length
        }
        _ = ccurl_setopt_ptr(curl, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_header_callback(curl) { buffer, size, count, context in
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            accumulator.headerLine(UnsafeRawBufferPointer(start: buffer, count: length))
            return length
        }
        _ = ccurl_setopt_ptr(curl, CURLOPT_HEADERDATA, context)

        let code = withExtendedLifetime(accumulator) { curl_easy_perform(curl) }
        guard code == CURLE_OK else { throw error(for: code, handle: handle, url: url) }
        var status = 0
        _ = ccurl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClientResponse(status: status, headers: accumulator.headers, body: accumulator.body)
    }

    private func setString(_ curl: UnsafeMutableRawPointer, _ option: CURLoption, _ value: String) {
        _ = value.withCString { ccurl_setopt_ptr(curl, option, $0) }  // libcurl copies string options
    }

    private func error(for code: CURLcode, handle: EasyHandle, url: String) -> HTTPClientError {
        var osErrno = 0
        _ = ccurl_getinfo_long(handle.raw, CURLINFO_OS_ERRNO, &osErrno)
        let detail = handle.errorText.isEmpty ? String(cString: curl_easy_strerror(code)) : handle.errorText
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            let message = osErrno != 0 ? String(cString: strerror(Int32(osErrno))) : detail
            return HTTPClientError(code: .couldNotConnect, message: message, url: url)
        case CURLE_OPERATION_TIMEDOUT:
            return HTTPClientError(code: .timedOut, message: detail, url: url)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return HTTPClientError(code: .invalidURL, message: detail, url: url)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_USE_SSL_FAILED,
            CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CLIENTCERT:
            return HTTPClientError(code: .tls, message: detail, url: url)
        default:
            return HTTPClientError(code: .transfer, message: detail, url: url)
        }
    }
}
