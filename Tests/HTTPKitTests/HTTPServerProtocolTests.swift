import HTTPKit
import Testing

/// Raw-socket tests of framing, limits and timeouts: exact bytes in, exact behaviour out.
@Suite(.serialized) struct HTTPServerProtocolTests {
    private func limited(_ configuration: inout HTTPServerConfiguration) {
        configuration.maxHeaderBytes = 1024
        configuration.maxBodyBytes = 1000
    }

    @Test func malformedRequestGets400AndClose() async throws {
        try await withTestServer(testRouter(), configure: limited) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("GARBAGE\r\n\r\n")
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            let response = try #require(RawResponse.parse(bytes))
            #expect(response.status == 400)
            #expect(response.header("Connection") == "close")
            #expect(response.bodyText.contains(#""code":"bad_request""#))
            #expect(closed)
        }
    }

    @Test func oversizedBodyGets413AndClose() async throws {
        try await withTestServer(testRouter(), configure: limited) { server in
            let socket = try RawSocket(port: server.port)
            socket.send(
                "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "x", count: 5000)
            )
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            #expect(try #require(RawResponse.parse(bytes)).status == 413)
            #expect(closed)
        }
    }

    @Test func oversizedHeadersGet431AndClose() async throws {
        try await withTestServer(testRouter(), configure: limited) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("GET /hello HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 4000) + "\r\n\r\n")
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            #expect(try #require(RawResponse.parse(bytes)).status == 431)
            #expect(closed)
        }
    }

    @Test(arguments: [0, 200])
    func chunkedBodyIsDecoded(pauseMilliseconds: Int) async throws {
        try await withTestServer(testRouter()) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
            // With a pause the server reads the head and part of the body before the rest arrives.
            try await Task.sleep(for: .milliseconds(pauseMilliseconds))
            socket.send("2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            let first = try await offPool { try socket.readResponse() }
            #expect(first.status == 201)
            #expect(first.bodyText == "abcde")
            #expect(try await offPool { try socket.readResponse() }.bodyText == "hello")
        }
    }

    @Test func unknownTransferCodingGets501AndClose() async throws {
        try await withTestServer(testRouter()) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            #expect(try #require(RawResponse.parse(bytes)).status == 501)
            #expect(closed)
        }
    }

    @Test func pipelinedRequestsAnsweredInOrder() async throws {
        try await withTestServer(testRouter()) { server in
            let socket = try RawSocket(port: server.port)
            // The first handler is slow; the answers must still come back in request order.
            socket.send(
                "GET /sleep/300 HTTP/1.1\r\nHost: a\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
            )
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            let responses = RawResponse.parseAll(bytes)
            #expect(responses.map(\.bodyText) == ["slept 300", "item 2 q=-", "abc"])
            #expect(responses.last?.header("Connection") == "close")
            #expect(closed)
        }
    }

    @Test func http10ClosesUnlessKeepAlive() async throws {
        try await withTestServer(testRouter()) { server in
            let plain = try RawSocket(port: server.port)
            plain.send("GET /hello HTTP/1.0\r\n\r\n")
            let (bytes, closed) = try await offPool { plain.readToEnd() }
            #expect(try #require(RawResponse.parse(bytes)).bodyText == "hello")
            #expect(closed)

            let kept = try RawSocket(port: server.port)
            kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let first = try await offPool { try kept.readResponse() }
            #expect(first.header("Connection") == "keep-alive")
            kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try await offPool { try kept.readResponse() }.bodyText == "hello")
        }
    }

    @Test func expectContinueGetsInterimResponse() async throws {
        try await withTestServer(testRouter()) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
            let interim = try await offPool { try socket.readResponse() }
            #expect(interim.status == 100)
            socket.send("ok")
            #expect(try await offPool { try socket.readResponse() }.bodyText == "ok")
        }
    }

    @Test func slowlorisHeadIsCutByHeaderTimeout() async throws {
        let configure: (inout HTTPServerConfiguration) -> Void = { $0.headerReadTimeout = .milliseconds(300) }
        try await withTestServer(testRouter(), configure: configure) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("GET /hello HTTP/1.1\r\nHost: a\r\n")
            // Drip a header line every 100 ms for up to 10 s. Were each line to extend the 300 ms head deadline,
            // the server would never answer while we drip; it must answer 408 and close during the drip.
            var closedWhileDripping = false
            for _ in 0..<100 {
                try await Task.sleep(for: .milliseconds(100))
                if socket.peerClosed() || socket.hasInput() {
                    closedWhileDripping = true
                    break
                }
                socket.send("X-Drip: 1\r\n")
            }
            #expect(closedWhileDripping)
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            #expect(RawResponse.parse(bytes)?.status == 408)
            #expect(closed)
        }
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        let configure: (inout HTTPServerConfiguration) -> Void = { $0.idleTimeout = .milliseconds(300) }
        try await withTestServer(testRouter(), configure: configure) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try await offPool { try socket.readResponse() }.status == 200)
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await offPool { socket.readToEnd() }.closed)
            #expect(clock.now - start < .seconds(20))  // the default idle timeout would be 75 s
        }
    }

    @Test func longPollIsNotCutByReadTimeouts() async throws {
        let configure: (inout HTTPServerConfiguration) -> Void = {
            $0.headerReadTimeout = .milliseconds(200)
            $0.idleTimeout = .milliseconds(200)
        }
        try await withTestServer(testRouter(), configure: configure) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("GET /sleep/800 HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try await offPool { try socket.readResponse() }.bodyText == "slept 800")
        }
    }
}
