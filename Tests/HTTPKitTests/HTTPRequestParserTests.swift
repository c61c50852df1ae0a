import HTTPKit
import Testing

@Suite struct HTTPRequestParserTests {
    static let post = Array(
        "POST /v1/jobs?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"b c\"}"
            .utf8
    )

    private func request(_ result: HTTPRequestParser.Result) -> ParsedHTTPRequest? {
        if case .request(let request) = result { return request }
        return nil
    }

    private func error(_ result: HTTPRequestParser.Result) -> HTTPParseError? {
        if case .error(let error) = result { return error }
        return nil
    }

    @Test func parsesRequestWithBody() throws {
        var parser = HTTPRequestParser()
        let parsed = try #require(request(parser.feed(Self.post)))
        #expect(parsed.method == .post)
        #expect(parsed.target == "/v1/jobs?x=1")
        #expect(parsed.headers["content-type"] == "application/json")
        #expect(text(parsed.body) == #"{"a":"b c"}"#)
        #expect(parsed.keepAlive)
        #expect(parser.isIdle)
    }

    @Test func everySplitPoint() throws {
        for split in 0...Self.post.count {
            var parser = HTTPRequestParser()
            let first = parser.feed(Self.post[0..<split])
            var parsed = request(first)
            if parsed == nil {
                guard case .needMore = first else {
                    Issue.record("split \(split): unexpected \(first)")
                    continue
                }
                parsed = request(parser.feed(Self.post[split...]))
            } else {
                #expect(split == Self.post.count)
            }
            let result = try #require(parsed, "split \(split)")
            #expect(text(result.body) == #"{"a":"b c"}"#, "split \(split)")
            #expect(result.headers["Content-Length"] == "11")
        }
    }

    @Test func byteAtATime() throws {
        var parser = HTTPRequestParser()
        var results: [ParsedHTTPRequest] = []
        for byte in Self.post + Self.post {
            if let parsed = request(parser.feed([byte])) { results.append(parsed) }
        }
        #expect(results.count == 2)
        #expect(results.allSatisfy { text($0.body) == #"{"a":"b c"}"# })
    }

    @Test func pipelinedRequestsComeOutOneAtATime() throws {
        var parser = HTTPRequestParser()
        let bytes = Array(
            "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGE"
                .utf8
        )
        let first = try #require(request(parser.feed(bytes)))
        let second = try #require(request(parser.next()))
        let third = try #require(request(parser.next()))
        #expect([first.target, second.target, third.target] == ["/a", "/b", "/c"])
        #expect(!third.keepAlive)
        guard case .needMore = parser.next() else {
            Issue.record("expected needMore")
            return
        }
        #expect(!parser.isIdle)
        let fourth = try #require(request(parser.feed(Array("T /d HTTP/1.1\r\nHost: a\r\n\r\n".utf8))))
        #expect(fourth.target == "/d")
    }

    @Test func keepAliveRules() throws {
        func keepAlive(_ head: String) throws -> Bool {
            var parser = HTTPRequestParser()
            return try #require(request(parser.feed(Array(head.utf8)))).keepAlive
        }
        #expect(try keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.0\r\n\r\n"))
        #expect(try keepAlive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    }

    @Test func toleratesLeadingEmptyLinesAndBareLF() throws {
        var parser = HTTPRequestParser()
        let parsed = try #require(request(parser.feed(Array("\r\nGET /x HTTP/1.1\nHost: a\n\n".utf8))))
        #expect(parsed.target == "/x")
        #expect(parsed.headers["Host"] == "a")
    }

    @Test func absoluteFormIsReducedToPath() throws {
        var parser = HTTPRequestParser()
        let parsed = try #require(request(parser.feed(Array("GET http://h:1/p?q=1 HTTP/1.1\r\nHost: a\r\n\r\n".utf8))))
        #expect(parsed.target == "/p?q=1")
    }

    static let malformed: [(String, HTTPParseError.Kind, Int)] = [
        ("GET /\r\n\r\n", .malformedRequestLine, 400),
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, 400),
        ("GET / HTTP/1.1 extra\r\n\r\n", .malformedRequestLine, 400),
        ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, 400),
        ("GET nopath HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine, 400),
        ("GET / HTTX/1.1\r\n\r\n", .malformedRequestLine, 400),
        ("GET / HTTP/2.0\r\n\r\n", .unsupportedVersion, 505),
        ("GET / HTTP/1.1\r\nHost: a\r\nNo colon\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nName : v\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nA: b\r\n folded\r\n\r\n", .malformedHeader, 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nA: b\u{1}c\r\n\r\n", .malformedHeader, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", .invalidContentLength, 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\nab", .invalidContentLength, 400),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            .conflictingFraming, 400
        ),
        (
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            .unsupportedTransferEncoding, 501
        ),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", .bodyTooLarge, 413),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", .bodyTooLarge, 413),
    ]

    @Test(arguments: malformed)
    func malformedRequests(_ input: String, _ kind: HTTPParseError.Kind, _ status: Int) throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 1024, maxBodyBytes: 100)
        let failure = try #require(error(parser.feed(Array(input.utf8))), "\(input.debugDescription)")
        #expect(failure.kind == kind)
        #expect(failure.status.code == status)
        // The parser stays failed.
        #expect(error(parser.feed(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))) == failure)
    }

    @Test func repeatedIdenticalContentLengthIsRefused() throws {
        var parser = HTTPRequestParser()
        let input = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"
        #expect(error(parser.feed(Array(input.utf8)))?.kind == .invalidContentLength)
    }

    @Test func headersTooLarge() throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 64, maxBodyBytes: 100)
        let long = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + String(repeating: "a", count: 100)
        #expect(error(parser.feed(Array(long.utf8)))?.kind == .headersTooLarge)
        // Also when the head completes in one chunk but is over the limit.
        var second = HTTPRequestParser(maxHeaderBytes: 64, maxBodyBytes: 100)
        #expect(error(second.feed(Array((long + "\r\n\r\n").utf8)))?.status == .requestHeaderFieldsTooLarge)
    }

    @Test func expectContinueIsReported() throws {
        var parser = HTTPRequestParser()
        let head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
        guard case .needMore = parser.feed(Array(head.utf8)) else {
            Issue.record("expected needMore")
            return
        }
        let first = parser.takeContinueRequest()
        let second = parser.takeContinueRequest()
        #expect(first)
        #expect(!second)
        #expect(try #require(request(parser.feed(Array("abc".utf8)))).body.count == 3)
    }

    @Test func requestDecoding() throws {
        let parsed = ParsedHTTPRequest(
            method: .get,
            target: "/v1/jobs/a%20b?state=run+ning&x=%2F&x=2&flag",
            minorVersion: 1,
            headers: HTTPHeaders([("Authorization", "Bearer tok123")]),
            body: [],
            keepAlive: true
        )
        let request = try HTTPRequest(parsed: parsed, remoteAddress: "1.2.3.4:5")
        #expect(request.path == "/v1/jobs/a b")
        #expect(request.query == ["state": "run ning", "x": "2", "flag": ""])
        #expect(request.bearerToken == "tok123")
        var bad = parsed
        bad.target = "/a%zz"
        #expect(throws: HTTPParseError.self) { try HTTPRequest(parsed: bad, remoteAddress: "") }
    }

    @Test func randomInputNeverTraps() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("GET POST / HTTP/1.1\r\nHost: a\r\n:Content-Length: 5 Transfer-Encoding ,\t\u{0}x".utf8)
        for _ in 0..<500 {
            var parser = HTTPRequestParser(maxHeaderBytes: 256, maxBodyBytes: 64)
            for _ in 0..<20 {
                let chunk = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                    alphabet.randomElement(using: &generator)!
                }
                if case .error = parser.feed(chunk) { break }
            }
        }
    }
}
