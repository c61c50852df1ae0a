internal import LinuxSystem

/// Reading, dispatching and writing on one connection (reactor thread).
extension ServerLoop {
    func handle(events: UInt32, on connection: Connection) {
        if events & (Epoll.error | Epoll.hangup) != 0 {
            close(connection)  // reset or fully closed: nobody is left to answer
            return
        }
        if events & Epoll.readHangup != 0, connection.phase == .awaitingResponse || connection.phase == .streaming {
            close(connection)  // the client left while its handler runs: cancel the handler (long polls too)
            return
        }
        if let tls = connection.tls, !tls.established, connection.phase == .reading {
            if advanceHandshake(connection) { readAvailable(connection) }
            return
        }
        let readable = events & Epoll.readable != 0
        let writable = events & Epoll.writable != 0
        if writable || (readable && connection.tls?.writeWantsRead == true) {
            flush(connection)
        }
        if readable || (writable && connection.tls?.readWantsWrite == true), connections[connection.id] != nil {
            readAvailable(connection)
        }
    }

    func readAvailable(_ connection: Connection) {
        // A bounded number of reads per wake-up keeps one busy peer from starving the others.
        for _ in 0..<16 {
            guard !connection.isClosed, connection.phase == .reading || connection.phase == .lingering else { return }
            guard let result = receive(on: connection) else {
                close(connection)
                return
            }
            guard case .processed(let count) = result else { return }
            if count == 0 {
                close(connection)  // EOF: between requests, mid-request, or the end of a linger
                return
            }
            if connection.phase == .lingering { continue }
            if connection.parser.isIdle {
                connection.requestStartedAt = Monotonic.nanoseconds()
            }
            let parsed = connection.parser.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            process(parsed, on: connection)
        }
    }

    /// Acts on the parser's verdict: keep reading, dispatch a request, or answer an error and close.
    private func process(_ result: HTTPRequestParser.Result, on connection: Connection) {
        switch result {
        case .needMore:
            if connection.parser.takeContinueRequest() {
                connection.output.append(contentsOf: ResponseSerializer.continueLine)
                flush(connection)
            }
            armReadDeadline(connection)
        case .request(let parsed):
            var request: HTTPRequest
            do {
                request = try HTTPRequest(parsed: parsed, remoteAddress: connection.remoteAddress)
                request.clientCertificateSubject = connection.tls?.peerCommonName
            } catch {
                respondWithParseError(error, on: connection)
                return
            }
            dispatch(request, parsed: parsed, on: connection)
        case .error(let error):
            respondWithParseError(error, on: connection)
        }
    }

    /// The deadline while reading: idle between requests, head deadline from the first byte, and a rolling
    /// stall deadline while a body arrives.
    private func armReadDeadline(_ connection: Connection) {
        let parser = connection.parser
        if parser.isIdle {
            connection.requestStartedAt = nil
            setDeadline(connection, after: idleTimeout)
        } else if parser.isReadingBody {
            setDeadline(connection, after: bodyTimeout)
        } else {
            let started = connection.requestStartedAt ?? Monotonic.nanoseconds()
            connection.requestStartedAt = started
            setDeadline(connection, after: started + headerTimeout - Monotonic.nanoseconds())
        }
    }

    private func dispatch(_ request: HTTPRequest, parsed: ParsedHTTPRequest, on connection: Connection) {
        connection.phase = .awaitingResponse
        connection.keepAlive = parsed.keepAlive
        connection.headRequest = parsed.method == .head
        connection.http10 = parsed.minorVersion == 0
        connection.requestStartedAt = nil
        setDeadline(connection, after: nil)  // a pending handler (long poll) is never cut by read timeouts
        setInterest(connection, Epoll.readHangup | (connection.hasPendingOutput ? Epoll.writable : 0))
        inFlight += 1
        let reactor = self.reactor
        let responder = self.responder
        let id = connection.id
        connection.handlerTask = Task {
            let response = await responder.respondMappingErrors(to: request)
            reactor.submit { loop in loop.responseReady(response, for: id) }
        }
    }

    /// A handler finished (reactor thread, via `Reactor.submit`).
    func responseReady(_ response: HTTPResponse, for id: UInt64) {
        inFlight -= 1
        guard let connection = connections[id], connection.phase == .awaitingResponse else { return }
        connection.handlerTask = nil
        if let producer = response.producer {
            startStream(response, producer: producer, on: connection)
            return
        }
        let keepAlive = connection.keepAlive && !connection.closeAfterWrite && !shuttingDown
        connection.closeAfterWrite = !keepAlive
        ResponseSerializer.serialize(
            response,
            headRequest: connection.headRequest,
            keepAlive: keepAlive,
            http10: connection.http10,
            into: &connection.output
        )
        connection.phase = .writing
        flush(connection)
    }

    private func respondWithParseError(_ error: HTTPParseError, on connection: Connection) {
        respondAndClose(.error(error.status, code: error.envelopeCode, message: error.detail), on: connection)
    }

    /// Answers without a handler (parse error, timeout, overload), then closes after a short linger.
    func respondAndClose(_ response: HTTPResponse, on connection: Connection) {
        connection.phase = .writing
        connection.closeAfterWrite = true
        ResponseSerializer.serialize(
            response,
            headRequest: false,
            keepAlive: false,
            http10: false,
            into: &connection.output
        )
        flush(connection)
    }

    /// Writes as much pending output as the socket takes; on EAGAIN arms EPOLLOUT and a stall deadline.
    func flush(_ connection: Connection) {
        while connection.hasPendingOutput {
            let sent = connection.output.withUnsafeBytes { bytes in
                send(UnsafeRawBufferPointer(rebasing: bytes[connection.outputOffset...]), on: connection)
            }
            guard let result = sent else {
                close(connection)  // EPIPE / ECONNRESET / TLS failure: the peer left
                return
            }
            switch result {
            case .processed(let count):
                connection.outputOffset += count
            case .wouldBlock:
                switch connection.phase {
                case .reading: setInterest(connection, Epoll.readable | Epoll.writable)
                case .awaitingResponse, .streaming: setInterest(connection, Epoll.writable | Epoll.readHangup)
                case .writing, .lingering: setInterest(connection, Epoll.writable)
                }
                if connection.phase == .writing || connection.phase == .streaming {
                    setDeadline(connection, after: writeTimeout)
                }
                return
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
        connection.outputOffset = 0
        switch connection.phase {
        case .writing:
            responseWritten(connection)
        case .reading:
            setInterest(connection, Epoll.readable)
        case .awaitingResponse:
            setInterest(connection, Epoll.readHangup)
        case .streaming:
            setInterest(connection, Epoll.readHangup)
            setDeadline(connection, after: nil)  // a quiet stream (long-lived SSE) is not cut
            streamDrained(connection)
        case .lingering:
            break
        }
    }

    private func responseWritten(_ connection: Connection) {
        if connection.closeAfterWrite {
            if shuttingDown {
                close(connection)
                return
            }
            connection.phase = .lingering
            connection.tls?.sendCloseNotify()
            if !connection.isClosed { Socket.shutdownWrite(connection.fd) }
            setInterest(connection, Epoll.readable)
            setDeadline(connection, after: lingerTimeout)
            return
        }
        connection.phase = .reading
        setInterest(connection, Epoll.readable)
        // Serve a pipelined request that is already buffered, before reading more from the socket.
        if !connection.parser.isIdle {
            connection.requestStartedAt = Monotonic.nanoseconds()
        }
        process(connection.parser.next(), on: connection)
        if connection.phase == .reading, connection.tls?.hasBufferedInput == true {
            readAvailable(connection)  // decrypted bytes no epoll event will announce
        }
    }

    func setInterest(_ connection: Connection, _ events: UInt32) {
        var events = events
        if let tls = connection.tls {
            // An SSL_read waiting to write (or SSL_write waiting to read) needs the opposite event too.
            if tls.readWantsWrite { events |= Epoll.writable }
            if tls.writeWantsRead { events |= Epoll.readable }
        }
        guard connection.interest != events, connections[connection.id] != nil else { return }
        do {
            try Epoll.modify(reactor.epollFD, fd: connection.fd, events: events, token: connection.id)
            connection.interest = events
        } catch {
            close(connection)
        }
    }
}
