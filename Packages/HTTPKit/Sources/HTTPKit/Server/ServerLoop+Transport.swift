internal import LinuxSystem

/// Byte transport for a connection (reactor thread): the socket itself, or OpenSSL on top of it for HTTPS.
extension ServerLoop {
    /// Reads into `readBuffer`. `.processed(0)` is the end of input; nil means the connection failed.
    func receive(on connection: Connection) -> IOResult<Int>? {
        guard !connection.isClosed else { return nil }
        guard let tls = connection.tls else {
            return try? Socket.read(connection.fd, into: readBuffer)
        }
        switch tls.read(into: readBuffer) {
        case .complete(let count): return .processed(count)
        case .wantRead: return .wouldBlock
        case .wantWrite:
            setInterest(connection, connection.interest)  // adds EPOLLOUT (readWantsWrite)
            return .wouldBlock
        case .closed: return .processed(0)
        case .failed: return nil
        }
    }

    /// Writes what the transport takes; nil means the connection failed.
    func send(_ bytes: UnsafeRawBufferPointer, on connection: Connection) -> IOResult<Int>? {
        guard !connection.isClosed else { return nil }
        guard let tls = connection.tls else {
            return try? Socket.write(connection.fd, bytes)
        }
        switch tls.write(bytes) {
        case .complete(let count): return .processed(count)
        case .wantRead, .wantWrite: return .wouldBlock  // flush re-arms; setInterest adds EPOLLIN if needed
        case .closed, .failed: return nil
        }
    }

    /// One step of a TLS handshake (the connection is `.reading`). True once established; otherwise the
    /// wanted event is armed, or the connection is closed after a failed handshake (other connections are
    /// unaffected; the header-read deadline set at accept also bounds a stalled handshake).
    func advanceHandshake(_ connection: Connection) -> Bool {
        guard let tls = connection.tls else { return true }
        switch tls.handshake() {
        case .complete:
            setInterest(connection, Epoll.readable)
            return true
        case .wantRead:
            setInterest(connection, Epoll.readable)
        case .wantWrite:
            setInterest(connection, Epoll.writable)
        case .closed, .failed:
            close(connection)
        }
        return false
    }
}
