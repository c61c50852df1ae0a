internal import COpenSSL

/// What one non-blocking OpenSSL call did (swift-nio-ssl's `AsyncOperationResult`, by `SSL_get_error`).
enum TLSStep {
    /// Done; for reads and writes, the byte count (> 0).
    case complete(Int)
    /// Call again once the socket is readable.
    case wantRead
    /// Call again once the socket is writable.
    case wantWrite
    /// The peer sent close_notify (reads) or closed the connection.
    case closed
    /// A protocol, verification or socket error; the connection must be closed.
    case failed(String)
}

/// One connection's `SSL*` on its non-blocking socket. Owned by a `Connection` and used only on the reactor
/// thread; freed with it.
final class TLSSession {
    private let ssl: OpaquePointer
    /// The handshake finished; application data may flow.
    private(set) var established = false
    /// The last read wanted the socket writable (or the last write wanted it readable): the reactor arms the
    /// opposite event too and retries the call when it fires.
    var readWantsWrite = false
    var writeWantsRead = false
    /// The verified client certificate's subject CN, known once established.
    private(set) var peerCommonName: String?

    init?(context: TLSContext, fd: Int32) {
        guard let ssl = SSL_new(context.raw) else { return nil }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
    }

    deinit {
        SSL_free(ssl)
    }

    /// Drives the handshake one step; on `.complete` the peer's certificate subject is read.
    func handshake() -> TLSStep {
        OpenSSLErrors.clear()
        let result = SSL_do_handshake(ssl)
        guard result == 1 else { return step(for: result) }
        established = true
        if SSL_get_verify_result(ssl) == X509_V_OK {
            var buffer = [CChar](repeating: 0, count: 256)
            if copenssl_peer_common_name(ssl, &buffer, buffer.count) == 1 {
                peerCommonName = String(
                    decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                    as: UTF8.self
                )
            }
        }
        return .complete(0)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSStep {
        OpenSSLErrors.clear()
        var count = 0
        let result = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &count)
        let step = result == 1 ? TLSStep.complete(count) : step(for: result)
        readWantsWrite = if case .wantWrite = step { true } else { false }
        return step
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TLSStep {
        OpenSSLErrors.clear()
        var count = 0
        let result = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &count)
        let step = result == 1 ? TLSStep.complete(count) : step(for: result)
        writeWantsRead = if case .wantRead = step { true } else { false }
        return step
    }

    /// Decrypted bytes buffered inside OpenSSL that no socket event will announce.
    var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }

    /// Sends close_notify without waiting for the peer's (before a graceful close of the write side).
    func sendCloseNotify() {
        guard established else { return }
        OpenSSLErrors.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrors.clear()
    }

    private func step(for result: Int32) -> TLSStep {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        default: return .failed(OpenSSLErrors.drain(fallback: "connection error"))
        }
    }
}

@available(*, unavailable)
extension TLSSession: Sendable {}
