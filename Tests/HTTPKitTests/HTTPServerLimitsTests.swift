import HTTPKit
import Testing

/// Overload and stalled-peer behaviour: 503 beyond maxConnections, the write and body timeouts.
@Suite(.serialized) struct HTTPServerLimitsTests {
    @Test func beyondMaxConnectionsGets503ThenRecovers() async throws {
        let configure: (inout HTTPServerConfiguration) -> Void = { $0.maxConnections = 2 }
        try await withTestServer(testRouter(), configure: configure) { server in
            let first = try RawSocket(port: server.port)
            let second = try RawSocket(port: server.port)
            // Both are served (and so certainly accepted) before the third arrives.
            for socket in [first, second] {
                socket.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(try await offPool { try socket.readResponse() }.status == 200)
            }
            do {
                let third = try RawSocket(port: server.port)
                third.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
                let (bytes, closed) = try await offPool { third.readToEnd() }
                let busy = try #require(RawResponse.parse(bytes))
                #expect(busy.status == 503)
                #expect(busy.header("Retry-After") == "1")
                #expect(closed)
            }  // closing it ends the server's linger on it at once
            // The served connections still work; once one closes, a new one is served.
            first.send("GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(try await offPool { first.readToEnd() }.closed)
            var served = false
            for _ in 0..<50 where !served {
                let next = try RawSocket(port: server.port)
                next.send("GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                let (reply, _) = try await offPool { next.readToEnd() }
                served = RawResponse.parse(reply)?.status == 200
                if !served { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(served)
        }
    }

    @Test func stalledReaderIsCutByWriteTimeout() async throws {
        var router = Router()
        let size = 64 * 1024 * 1024
        router.add(.get, "/big") { _ in HTTPResponse(status: .ok, body: [UInt8](repeating: 0x61, count: size)) }
        let configure: (inout HTTPServerConfiguration) -> Void = { $0.writeTimeout = .milliseconds(300) }
        try await withTestServer(router, configure: configure) { server in
            let socket = try RawSocket(port: server.port, receiveTimeoutSeconds: 20)
            socket.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
            // Read nothing for a while (far beyond the 300 ms write timeout), then drain what is left.
            try await Task.sleep(for: .seconds(3))
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            #expect(closed)
            #expect(bytes.count < size)
        }
    }

    @Test func stalledBodyGets408() async throws {
        let configure: (inout HTTPServerConfiguration) -> Void = { $0.bodyReadTimeout = .milliseconds(300) }
        try await withTestServer(testRouter(), configure: configure) { server in
            let socket = try RawSocket(port: server.port, receiveTimeoutSeconds: 20)
            socket.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
            let (bytes, closed) = try await offPool { socket.readToEnd() }
            #expect(RawResponse.parse(bytes)?.status == 408)
            #expect(closed)
        }
    }
}
