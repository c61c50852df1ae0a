import Dispatch
import Glibc
import HTTPKit
import Synchronization
import Testing

/// A listener that answers each request with the next of its scripted answers and counts connections; an
/// answer marked `close` closes the connection after it (a server dropping a kept-alive connection).
private final class ScriptedListener: Sendable {
    struct Answer: Sendable {
        var bytes: String
        var close = false
    }

    let fd: Int32
    let port: Int
    private let answers: Mutex<[Answer]>
    private let accepted = Atomic(0)
    private let requests = Mutex<[String]>([])

    init(_ answers: [Answer]) throws {
        self.answers = Mutex(answers)
        (fd, port) = try loopbackListener()
        DispatchQueue(label: "scripted-listener").async { self.loop() }
    }

    private func loop() {
        while true {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { return }
            accepted.add(1, ordering: .relaxed)
            // Long enough for a loaded machine; a client that goes away ends the wait at once.
            var timeout = timeval(tv_sec: 60, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            serve(connection)
            close(connection)
        }
    }

    /// One request per answer, until an answer closes or the client does.
    private func serve(_ connection: Int32) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            while Self.headLength(pending) == 0 {
                let count = recv(connection, &buffer, buffer.count, 0)
                guard count > 0 else { return }
                pending += buffer[..<count]
            }
            let headBytes = Self.headLength(pending)
            let head = String(decoding: pending.prefix(headBytes), as: UTF8.self)
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].filter { $0 != " " }) } ?? 0
            while pending.count < head.utf8.count + length {
                let count = recv(connection, &buffer, buffer.count, 0)
                guard count > 0 else { return }
                pending += buffer[..<count]
            }
            requests.withLock { $0.append(String(decoding: pending.prefix(head.utf8.count + length), as: UTF8.self)) }
            pending.removeFirst(head.utf8.count + length)
            guard let answer = answers.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return }
            _ = answer.bytes.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            if answer.close { return }
        }
    }

    /// Bytes up to and including the blank line ending the head; 0 while it has not come.
    private static func headLength(_ bytes: [UInt8]) -> Int {
        guard bytes.count >= 4 else { return 0 }
        for index in 0...(bytes.count - 4) where bytes[index..<(index + 4)].elementsEqual([13, 10, 13, 10]) {
            return index + 4
        }
        return 0
    }

    var connections: Int { accepted.load(ordering: .relaxed) }
    var received: [String] { requests.withLock { $0 } }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)) }
}

/// `HTTPClient.send` to http:// URLs without libcurl (issue 16): what goes on the wire, kept-alive connections
/// reused, one a server closed while idle replaced, headers that would split the request refused, and the
/// same answers as libcurl gives from the real server.
@Suite struct PlainHTTPClientTests {
    private static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    @Test func theRequestOnTheWireAndAKeptAliveConnection() async throws {
        let listener = try ScriptedListener([.init(bytes: Self.ok), .init(bytes: Self.ok)])
        defer { listener.stop() }
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(listener.port)/", bearerToken: "t0k")
        )
        let first = try await client.execute(.post, "/v1/jobs", body: Array("{\"a\":1}".utf8))
        #expect(first.status == 200 && first.body == Array("ok".utf8))
        #expect(try await client.execute(.get, "v1/jobs?limit=2").status == 200)
        #expect(listener.connections == 1, "the second request reuses the first connection")
        let sent = listener.received
        #expect(sent.count == 2)
        #expect(sent.first?.hasPrefix("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1:\(listener.port)\r\n") == true)
        #expect(sent.first?.contains("\r\nAuthorization: Bearer t0k\r\n") == true)
        #expect(sent.first?.contains("\r\nContent-Type: application/json\r\n") == true)
        #expect(sent.first?.hasSuffix("\r\nContent-Length: 7\r\n\r\n{\"a\":1}") == true)
        #expect(sent.last?.hasPrefix("GET /v1/jobs?limit=2 HTTP/1.1\r\n") == true)
        #expect(sent.last?.contains("Content-Length") == false)
    }

    @Test func aConnectionClosedWhileIdleIsReplacedOnce() async throws {
        let listener = try ScriptedListener([.init(bytes: Self.ok, close: true), .init(bytes: Self.ok)])
        defer { listener.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(listener.port)"))
        #expect(try await client.execute(.get, "/a").status == 200)
        try await Task.sleep(for: .milliseconds(100))
        // POST too: the closed connection never carried it, so sending it again sends it once.
        #expect(try await client.execute(.post, "/b", body: []).status == 200)
        #expect(listener.connections == 2)
        #expect(listener.received.count == 2)
    }

    @Test func headersThatWouldSplitTheRequestAreRefusedAndNothingIsSent() async throws {
        let listener = try ScriptedListener([.init(bytes: Self.ok)])
        defer { listener.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(listener.port)"))
        for headers in [HTTPHeaders([("X-A", "1\r\nX-Injected: 2")]), HTTPHeaders([("Bad Name", "1")])] {
            let error = try #require(throws: HTTPClientError.self) { try client.send(.get, "/", headers: headers) }
            #expect(error.code == .invalidURL)
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(listener.received.isEmpty)
    }

    @Test func aMalformedAnswerIsATransferError() async throws {
        let listener = try ScriptedListener([.init(bytes: "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")])
        defer { listener.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(listener.port)"))
        let error = try #require(throws: HTTPClientError.self) { try client.send(.get, "/") }
        #expect(error.code == .transfer)
        #expect(error.message.contains("Content-Length"))
    }

    @Test func theSameAnswersAsLibcurlFromTheRealServer() async throws {
        try await withTestServer(testRouter()) { server in
            var curl = HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(server.port)", bearerToken: "abc")
            curl.plainHTTPWithoutCurl = false
            var plain = curl
            plain.plainHTTPWithoutCurl = true
            for configuration in [curl, plain] {
                let client = HTTPClient(configuration: configuration)
                let hello = try await client.execute(.get, "/hello")
                #expect(hello.status == 200 && text(hello.body) == "hello")
                let echo = try await client.execute(.post, "/echo", body: Array("{\"x\":[1,2]}".utf8))
                #expect(echo.status == 201 && text(echo.body) == "{\"x\":[1,2]}")
                #expect(echo.headers["X-Token"] == "abc")
                #expect(try await client.execute(.get, "/missing").status == 404)
                #expect(try await client.execute(.head, "/hello").body.isEmpty)
            }
        }
    }

    /// Streams over plain HTTP: the chunked body arrives whole through the sink while a long poll shares the
    /// client; a sink that says stop ends the transfer without an error; a non-2xx answer comes back whole; a
    /// cancelled stream returns within a few seconds (the poll looks at the flag every second).
    @Test func streamsStopsAndCancellation() async throws {
        try await withTestServer(tlsRouter()) { server in
            let client = client(for: server)
            async let poll = client.execute(.get, "/sleep/1000")
            let received = ByteCounter()
            let streamed = try await client.stream(.get, "/stream/4096") { chunk in
                received.add(chunk.count)
                return true
            }
            #expect(streamed.status == 200 && streamed.body.isEmpty)
            #expect(streamed.headers["Transfer-Encoding"] == "chunked")
            #expect(received.total == 4096 * 1024)
            #expect(text(try await poll.body) == "slept 1000")

            let early = ByteCounter()
            let stopped = try await client.stream(.get, "/stream/100000") { chunk in
                early.add(chunk.count)
                return false
            }
            #expect(stopped.status == 200 && early.total > 0 && early.total < 100_000 * 1024)
            #expect(try await client.execute(.get, "/hello").status == 200, "the client still works")

            let missing = try await client.stream(.get, "/missing") { _ in
                Issue.record("a 404's body went to the sink")
                return true
            }
            #expect(missing.status == 404 && !missing.body.isEmpty)

            let clock = ContinuousClock()
            let start = clock.now
            let waiting = Task { try await client.stream(.get, "/sleep/30000") { _ in true } }
            try await Task.sleep(for: .milliseconds(300))
            waiting.cancel()
            let answer = try await waiting.value
            #expect(answer.status == 0, "cancelled before any answer")
            #expect(clock.now - start < .seconds(20), "did not wait for the 30 s handler")
        }
    }

    @Test func aPathThatWouldEndTheRequestLineIsRefusedAndNothingIsSent() async throws {
        let listener = try ScriptedListener([.init(bytes: Self.ok)])
        defer { listener.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(listener.port)"))
        for path in ["/a\r\nX-Injected: 1", "/a b", "/a\tb", "/caf\u{e9}", "/a\u{0}"] {
            let error = try #require(throws: HTTPClientError.self) { try client.send(.get, path) }
            #expect(error.code == .invalidURL, "\(path.debugDescription)")
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(listener.received.isEmpty)
    }

    /// An interim answer and then a close, on a kept-alive connection: part of an answer came, so the POST is
    /// not sent again on a new connection (it may have run), and the error is no connection failure.
    @Test func aCloseAfterAnInterimAnswerIsNotRetried() async throws {
        let listener = try ScriptedListener([
            .init(bytes: Self.ok), .init(bytes: "HTTP/1.1 100 Continue\r\n\r\n", close: true), .init(bytes: Self.ok),
        ])
        defer { listener.stop() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(listener.port)"))
        #expect(try await client.execute(.get, "/a").status == 200)
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(.post, "/b", body: Array("{}".utf8))
        }
        #expect(error?.code == .transfer)
        try await Task.sleep(for: .milliseconds(100))
        #expect(listener.received.count == 2, "the POST went once")
        #expect(listener.connections == 1)
    }

    /// A server that answers before taking the whole request (413 for a body over its limit) and closes: the
    /// caller gets the 413, not the broken pipe of the rest of its write.
    @Test func anAnswerBeforeTheWholeBodyWasTakenIsTheAnswer() async throws {
        let configure: (inout HTTPServerConfiguration) -> Void = { $0.maxBodyBytes = 1024 }
        try await withTestServer(testRouter(), configure: configure) { server in
            let client = client(for: server)
            let body = [UInt8](repeating: UInt8(ascii: "a"), count: 16 << 20)
            let response = try await client.execute(.post, "/echo", body: body)
            #expect(response.status == 413)
            #expect(try await client.execute(.get, "/hello").status == 200)
        }
    }

    /// Retries of an idempotent request follow libcurl's rule: a close before any answer is a connection failure
    /// and is retried; a body cut short is not (part of the answer came).
    @Test func aBodyCutShortIsNotRetriedAndAnEmptyReplyIs() async throws {
        let short = try ScriptedListener([
            .init(bytes: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", close: true), .init(bytes: Self.ok),
        ])
        defer { short.stop() }
        var configuration = HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(short.port)")
        configuration.maxRetries = 2
        configuration.retryBaseDelay = .milliseconds(10)
        let cut = try #require(throws: HTTPClientError.self) {
            try HTTPClient(configuration: configuration).send(.get, "/")
        }
        #expect(cut.code == .transfer && cut.message.contains("before the response was complete"))
        #expect(short.connections == 1, "not retried")

        let empty = try ScriptedListener([.init(bytes: "", close: true), .init(bytes: Self.ok)])
        defer { empty.stop() }
        configuration.baseURL = "http://127.0.0.1:\(empty.port)"
        #expect(try HTTPClient(configuration: configuration).send(.get, "/").status == 200)
        #expect(empty.connections == 2, "retried once on a new connection")
    }
}
