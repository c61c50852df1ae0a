/// Streamed responses (reactor thread): the head goes out, the producer runs in its own task, its chunks
/// are appended as they come, and the writer learns when the socket has taken them (back-pressure).
extension ServerLoop {
    /// Sends the head of a streamed response and starts its producer.
    func startStream(_ response: HTTPResponse, producer: @escaping HTTPResponse.BodyProducer, on connection: Connection)
    {
        let keepAlive = connection.keepAlive && !connection.closeAfterWrite && !shuttingDown && !connection.http10
        connection.closeAfterWrite = !keepAlive
        ResponseSerializer.serializeStreamingHead(
            response,
            keepAlive: keepAlive,
            http10: connection.http10,
            into: &connection.output
        )
        guard response.status.allowsBody && !connection.headRequest else {
            connection.phase = .writing
            flush(connection)
            return
        }
        let writer = ResponseBodyWriter(reactor: reactor, connectionID: connection.id, chunked: !connection.http10)
        connection.phase = .streaming
        connection.stream = writer
        connection.streamQueued = 0
        let reactor = self.reactor
        connection.handlerTask = Task {
            let succeeded: Bool
            do {
                try await producer(writer)
                succeeded = true
            } catch {
                succeeded = false
            }
            reactor.submit { loop in loop.streamEnded(writer, succeeded: succeeded) }
        }
        flush(connection)
    }

    /// A chunk from the producer (via `Reactor.submit`).
    func streamData(_ frame: [UInt8], from writer: ResponseBodyWriter) {
        guard let connection = connections[writer.connectionID], connection.stream === writer else {
            writer.close()
            return
        }
        connection.output.append(contentsOf: frame)
        connection.streamQueued += frame.count
        flush(connection)
    }

    /// The producer returned (or threw): send the last chunk, or cut the connection on failure.
    func streamEnded(_ writer: ResponseBodyWriter, succeeded: Bool) {
        writer.close()
        guard let connection = connections[writer.connectionID], connection.stream === writer else { return }
        connection.stream = nil
        connection.handlerTask = nil
        guard succeeded else {
            close(connection)
            return
        }
        if writer.chunked { connection.output.append(contentsOf: ResponseSerializer.lastChunk) }
        connection.streamQueued = 0
        connection.phase = .writing
        flush(connection)
    }

    /// The socket took everything queued: tell the writer (releases a suspended `write`).
    func streamDrained(_ connection: Connection) {
        guard let writer = connection.stream, connection.streamQueued > 0 else { return }
        writer.acknowledge(connection.streamQueued)
        connection.streamQueued = 0
    }
}
