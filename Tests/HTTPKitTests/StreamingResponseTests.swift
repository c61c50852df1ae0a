import Glibc
import HTTPKit
import Synchronization
import Testing

/// Streamed responses: chunked output read by curl, server-sent events, back-pressure against a slow reader,
/// and producers and handlers that learn when their client disconnects.
@Suite(.serialized) struct StreamingResponseTests {
    /// What producers and handlers observed, read by the test.
    final class Probe: Sendable {
        private let state = Mutex((written: 0, ended: "", cancelled: false))

        func add(_ count: Int) { state.withLock { $0.written += count } }
        func end(_ how: String) { state.withLock { $0.ended = how } }
        func markCancelled() { state.withLock { $0.cancelled = true } }
        var written: Int { state.withLock { $0.written } }
        var ended: String { state.withLock { $0.ended } }
        var cancelled: Bool { state.withLock { $0.cancelled } }
    }

    /// Polls `condition` every 50 ms for up to 20 s (far beyond what it needs on an idle machine).
    private func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<400 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    private func streamingRouter(_ probe: Probe) -> Router {
        var router = testRouter()
        router.add(.get, "/lines/{n}") { request in
            let count = Int(request.pathParameters["n"] ?? "0") ?? 0
            return .stream(headers: HTTPHeaders([("Content-Type", "text/plain")])) { body in
                for index in 0..<count { try await body.write("line \(index)\n") }
            }
        }
        router.add(.get, "/events") { _ in
            .eventStream { events in
                try await events.comment("hello")
                try await events.send(data: "first")
                try await events.send(data: "two\nlines", event: "update", id: "7")
            }
        }
        router.add(.get, "/firehose") { _ in
            .stream { body in
                let piece = [UInt8](repeating: 0x78, count: 64 * 1024)
                do {
                    for _ in 0..<2048 {  // 128 MiB if nobody pushed back
                        try await body.write(piece)
                        probe.add(piece.count)
                    }
                    probe.end("finished")
                } catch {
                    probe.end(error is ResponseStreamClosedError ? "closed" : "other: \(error)")
                    throw error
                }
            }
        }
        router.add(.get, "/longpoll") { _ in
            do {
                try await Task.sleep(for: .seconds(120))
            } catch {
                probe.markCancelled()
                throw error
            }
            return .text("late")
        }
        return router
    }

    @Test func chunkedOutputReadByCurlAndRawSocket() async throws {
        try await withTestServer(streamingRouter(Probe())) { server in
            let output = try await runCurl(["-sS", "http://127.0.0.1:\(server.port)/lines/500"])
            #expect(output == (0..<500).map { "line \($0)\n" }.joined())
            // On the wire: chunked framing, then the connection is reused for the next request.
            let socket = try RawSocket(port: server.port)
            socket.send(
                "GET /lines/2 HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
            )
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            let wire = text(bytes)
            #expect(wire.contains("Transfer-Encoding: chunked\r\n"))
            #expect(wire.contains("\r\n\r\n7\r\nline 0\n\r\n7\r\nline 1\n\r\n0\r\n\r\nHTTP/1.1 200 OK"))
            #expect(wire.hasSuffix("hello"))
            #expect(closed)
        }
    }

    @Test func http10ClientGetsCloseDelimitedStream() async throws {
        try await withTestServer(streamingRouter(Probe())) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("GET /lines/2 HTTP/1.0\r\n\r\n")
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            #expect(!text(bytes).contains("chunked"))
            #expect(text(bytes).hasSuffix("\r\n\r\nline 0\nline 1\n"))
            #expect(closed)
        }
    }

    @Test func serverSentEvents() async throws {
        try await withTestServer(streamingRouter(Probe())) { server in
            let output = try await runCurl(["-sS", "-i", "http://127.0.0.1:\(server.port)/events"])
            #expect(output.contains("Content-Type: text/event-stream"))
            #expect(output.contains("Cache-Control: no-cache"))
            #expect(output.hasSuffix(": hello\n\ndata: first\n\nevent: update\nid: 7\ndata: two\ndata: lines\n\n"))
        }
    }

    @Test func slowReaderBoundsTheProducerThenDisconnectEndsIt() async throws {
        let probe = Probe()
        try await withTestServer(streamingRouter(probe)) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("GET /firehose HTTP/1.1\r\nHost: a\r\n\r\n")
            // Read nothing: the producer must stall once the socket buffers and the 64 KiB writer buffer are
            // full (a few MiB on loopback), far below the 128 MiB it would write unchecked.
            #expect(try await eventually { probe.written > 0 })
            try await Task.sleep(for: .seconds(1))
            let stalledAt = probe.written
            #expect(stalledAt < 32 * 1024 * 1024)
            #expect(probe.ended.isEmpty)
            // The client goes away: the suspended write throws and the producer ends.
            _ = Glibc.shutdown(socket.fd, Int32(SHUT_RDWR))
            #expect(try await eventually { probe.ended == "closed" })
            #expect(probe.written < 64 * 1024 * 1024)
        }
    }

    @Test func disconnectCancelsLongPollHandler() async throws {
        let probe = Probe()
        try await withTestServer(streamingRouter(probe)) { server in
            do {
                let socket = try RawSocket(port: server.port)
                socket.send("GET /longpoll HTTP/1.1\r\nHost: a\r\n\r\n")
                try await Task.sleep(for: .milliseconds(200))
            }  // the socket closes here, with the handler still sleeping
            #expect(try await eventually { probe.cancelled })
            #expect(try await client(for: server).execute(.get, "/hello").status == 200)
        }
    }
}
