internal import CCurl
internal import Glibc

/// One request's parameters, fixed across retries.
struct Transfer {
    var method: HTTPMethod
    var body: [UInt8]?
    var headers: HTTPHeaders
    /// Total time for the transfer; nil: none (streams).
    var timeout: Duration?
}

/// Setting up and running one transfer on an easy handle, and mapping curl's errors.
extension HTTPClient {
    func perform(
        _ handle: EasyHandle,
        _ transfer: Transfer,
        url: String,
        accumulator: ResponseAccumulator
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let curl = handle.raw
        ccurl_easy_reset(curl)  // keeps the connection cache: that is the reuse
        handle.errorBuffer[0] = 0
        _ = ccurl_setopt_ptr(curl, CURLOPT_ERRORBUFFER, handle.errorBuffer)
        _ = ccurl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(
            curl,
            CURLOPT_CONNECTTIMEOUT_MS,
            max(1, configuration.connectTimeout.millisecondsRoundedUp)
        )
        if let timeout = transfer.timeout {
            _ = ccurl_setopt_long(curl, CURLOPT_TIMEOUT_MS, max(1, timeout.millisecondsRoundedUp))
        }
        _ = ccurl_setopt_long(curl, CURLOPT_TCP_KEEPALIVE, 1)
        setString(curl, CURLOPT_URL, url)
        setString(curl, CURLOPT_PROTOCOLS_STR, "http,https")
        setString(curl, CURLOPT_USERAGENT, configuration.userAgent)
        setTLSOptions(curl)
        setMethodAndBody(curl, transfer)

        var list: UnsafeMutablePointer<curl_slist>?
        defer { ccurl_slist_free_all(list) }
        var outgoing = transfer.headers
        if let token = configuration.bearerToken, !outgoing.contains("Authorization") {
            outgoing.add("Authorization", "Bearer \(token)")
        }
        if transfer.body != nil, !outgoing.contains("Content-Type") {
            outgoing.add("Content-Type", "application/json")
        }
        for (name, value) in outgoing {
            // libcurl reads "Name:" as "remove this header"; "Name;" sends it with an empty value.
            list = ccurl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        list = ccurl_slist_append(list, "Expect:")  // drop "Expect: 100-continue": no extra round trip
        _ = ccurl_setopt_ptr(curl, CURLOPT_HTTPHEADER, UnsafeRawPointer(list))
        setCallbacks(curl, accumulator)

        let code = withExtendedLifetime(accumulator) { ccurl_easy_perform(curl) }
        let stoppedByCaller = accumulator.stopped && (code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK)
        guard code == CURLE_OK || stoppedByCaller else { throw error(for: code, handle: handle, url: url) }
        var status = 0
        _ = ccurl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClientResponse(status: status, headers: accumulator.headers, body: accumulator.body)
    }

    private func setTLSOptions(_ curl: UnsafeMutableRawPointer) {
        _ = ccurl_setopt_long(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2)
        _ = ccurl_setopt_long(curl, CURLOPT_SSL_VERIFYPEER, 1)
        _ = ccurl_setopt_long(curl, CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = configuration.caFile { setString(curl, CURLOPT_CAINFO, caFile) }
        if let certificate = configuration.clientCertificateFile {
            setString(curl, CURLOPT_SSLCERT, certificate)
            setString(curl, CURLOPT_SSLCERTTYPE, "PEM")
        }
        if let key = configuration.clientKeyFile {
            setString(curl, CURLOPT_SSLKEY, key)
            setString(curl, CURLOPT_SSLKEYTYPE, "PEM")
        }
    }

    private func setMethodAndBody(_ curl: UnsafeMutableRawPointer, _ transfer: Transfer) {
        let method = transfer.method
        switch method {
        case .get:
            _ = ccurl_setopt_long(curl, CURLOPT_HTTPGET, 1)
        case .head:
            _ = ccurl_setopt_long(curl, CURLOPT_NOBODY, 1)
        default:
            setString(curl, CURLOPT_CUSTOMREQUEST, method.rawValue)
        }
        if transfer.body != nil || method == .post || method == .put || method == .patch {
            let bytes = transfer.body ?? []
            _ = ccurl_setopt_off_t(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
            // COPYPOSTFIELDS copies, so the array need not outlive this call; it needs a non-null pointer.
            (bytes.isEmpty ? [0] : bytes).withUnsafeBytes { raw in
                _ = ccurl_setopt_ptr(curl, CURLOPT_COPYPOSTFIELDS, raw.baseAddress)
            }
        }
    }

    private func setCallbacks(_ curl: UnsafeMutableRawPointer, _ accumulator: ResponseAccumulator) {
        let context = Unmanaged.passUnretained(accumulator).toOpaque()
        _ = ccurl_setopt_write_callback(curl) { buffer, size, count, context in
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            guard let buffer else { return length }
            return accumulator.bodyBytes(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
        }
        _ = ccurl_setopt_ptr(curl, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_header_callback(curl) { buffer, size, count, context in
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            accumulator.headerLine(UnsafeRawBufferPointer(start: buffer, count: length))
            return length
        }
        _ = ccurl_setopt_ptr(curl, CURLOPT_HEADERDATA, context)
        if accumulator.cancellation != nil {
            _ = ccurl_setopt_long(curl, CURLOPT_NOPROGRESS, 0)
            _ = ccurl_setopt_xferinfo_callback(curl) { context, _, _, _, _ in
                let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
                return accumulator.shouldAbort ? 1 : 0
            }
            _ = ccurl_setopt_ptr(curl, CURLOPT_XFERINFODATA, context)
        }
    }

    private func setString(_ curl: UnsafeMutableRawPointer, _ option: CURLoption, _ value: String) {
        _ = value.withCString { ccurl_setopt_ptr(curl, option, $0) }  // libcurl copies string options
    }

    private func error(for code: CURLcode, handle: EasyHandle, url: String) -> HTTPClientError {
        var osErrno = 0
        _ = ccurl_getinfo_long(handle.raw, CURLINFO_OS_ERRNO, &osErrno)
        let detail = handle.errorText.isEmpty ? String(cString: ccurl_easy_strerror(code)) : handle.errorText
        var error: HTTPClientError
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            let message = osErrno != 0 ? String(cString: strerror(Int32(osErrno))) : detail
            error = HTTPClientError(code: .couldNotConnect, message: message, url: url)
            error.isConnectionFailure = true
        case CURLE_OPERATION_TIMEDOUT:
            error = HTTPClientError(code: .timedOut, message: detail, url: url)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            error = HTTPClientError(code: .invalidURL, message: detail, url: url)
        case CURLE_PEER_FAILED_VERIFICATION:
            error = HTTPClientError(
                code: .tls,
                message: "certificate verify failed: \(detail) (is --ca-file right?)",
                url: url
            )
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_USE_SSL_FAILED,
            CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CLIENTCERT:
            error = HTTPClientError(code: .tls, message: detail, url: url)
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            // Closed or reset before a complete response (a server restarting, a stale kept-alive connection).
            error = HTTPClientError(code: .transfer, message: detail, url: url)
            error.isConnectionFailure = true
        default:
            error = HTTPClientError(code: .transfer, message: detail, url: url)
        }
        return error
    }
}
