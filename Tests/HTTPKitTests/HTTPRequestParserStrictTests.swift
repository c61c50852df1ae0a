import Testing

@testable import HTTPKit

/// RFC 9112 strictness: chunked bodies and the framing shapes that enable request smuggling.
@Suite struct HTTPRequestParserStrictTests {
    private func request(_ result: HTTPRequestParser.Result) -> ParsedHTTPRequest? {
        if case .request(let request) = result { return request }
        return nil
    }

    private func error(_ result: HTTPRequestParser.Result) -> HTTPParseError? {
        if case .error(let error) = result { return error }
        return nil
    }

    static let chunked = Array(
        ("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value;q=\"a \\\" b\"\r\nhello\r\n1A\r\n" + String(repeating: "z", count: 26)
            + "\r\n0\r\nX-Checksum: 42\r\n\r\n").utf8
    )

    @Test func decodesChunkedBodyWithExtensionsAndTrailers() throws {
        var parser = HTTPRequestParser()
        let parsed = try #require(request(parser.feed(Self.chunked)))
        #expect(text(parsed.body) == "hello" + String(repeating: "z", count: 26))
        #expect(parsed.trailers["X-Checksum"] == "42")
        #expect(parsed.headers["X-Checksum"] == nil)
        #expect(parser.isIdle)
    }

    @Test func chunkedEverySplitPointAndPipelined() throws {
        let twice = Self.chunked + Self.chunked
        for split in 0...Self.chunked.count {
            var parser = HTTPRequestParser()
            var bodies: [String] = []
            for part in [twice[0..<split], twice[split...]] {
                var result = parser.feed(part)
                while let parsed = request(result) {
                    bodies.append(text(parsed.body))
                    result = parser.next()
                }
                #expect(error(result) == nil, "split \(split)")
            }
            #expect(bodies.count == 2, "split \(split)")
        }
    }

    @Test func chunkedByteAtATime() throws {
        var parser = HTTPRequestParser()
        var count = 0
        for byte in Self.chunked + Self.chunked where request(parser.feed([byte])) != nil { count += 1 }
        #expect(count == 2)
    }

    @Test func chunkedBodyOverLimitIs413() throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 1024, maxBodyBytes: 30)
        let input =
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n"
            + String(repeating: "a", count: 16) + "\r\n10\r\n"
        #expect(error(parser.feed(Array(input.utf8)))?.status.code == 413)
    }

    @Test func expectContinueWithChunkedBody() throws {
        var parser = HTTPRequestParser()
        let head = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
        guard case .needMore = parser.feed(Array(head.utf8)) else {
            Issue.record("expected needMore")
            return
        }
        let continueRequested = parser.takeContinueRequest()
        #expect(continueRequested)
        #expect(try #require(request(parser.feed(Array("2\r\nok\r\n0\r\n\r\n".utf8)))).body == Array("ok".utf8))
    }

    static let hostile: [(String, Int)] = [
        // Chunk sizes and chunked framing
        ("Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\n5;a=\"open\r\nhello\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n", 413),
        ("Transfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n", 400),
        // Transfer-Encoding and Content-Length
        ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
        ("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: gzip\r\n\r\n", 400),
        ("Transfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", 501),
        ("Transfer-Encoding: x-custom, chunked\r\n\r\n0\r\n\r\n", 501),
        ("Transfer-Encoding: xchunked\r\n\r\n", 400),
        ("Content-Length: 1\r\nContent-Length: 1\r\n\r\na", 400),
        ("Content-Length: +1\r\n\r\na", 400),
        ("Content-Length: 0x1\r\n\r\na", 400),
        ("Content-Length: 1 1\r\n\r\na", 400),
    ]

    @Test(arguments: hostile)
    func hostileFramingIsRefused(_ tail: String, _ status: Int) throws {
        var parser = HTTPRequestParser(maxHeaderBytes: 1024, maxBodyBytes: 1000)
        let input = Array(("POST / HTTP/1.1\r\nHost: a\r\n" + tail).utf8)
        let failure = try #require(error(parser.feed(input)), "\(tail.debugDescription)")
        #expect(failure.status.code == status, "\(tail.debugDescription): \(failure)")
    }

    static let badHeads: [(String, Int)] = [
        ("GET / HTTP/1.1\r\n\r\n", 400),  // no Host on HTTP/1.1
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
        ("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nX: \0\r\n\r\n", 400),
        ("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
        ("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
        ("GET /" + String(repeating: "a", count: 600) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        ("GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X: y\r\n", count: 20) + "\r\n", 431),
    ]

    @Test(arguments: badHeads)
    func badHeadIsRefused(_ input: String, _ status: Int) throws {
        var parser = HTTPRequestParser(
            maxHeaderBytes: 1024,
            maxBodyBytes: 1000,
            maxRequestLineBytes: 512,
            maxHeaderCount: 10
        )
        let failure = try #require(error(parser.feed(Array(input.utf8))), "\(input.debugDescription)")
        #expect(failure.status.code == status, "\(input.debugDescription): \(failure)")
    }

    @Test func http10WithoutHostIsAccepted() throws {
        var parser = HTTPRequestParser()
        #expect(request(parser.feed(Array("GET / HTTP/1.0\r\n\r\n".utf8))) != nil)
    }

    @Test func chunkExtensionGrammar() {
        func valid(_ text: String) -> Bool { ChunkedBodyDecoder.validExtensions(Array(text.utf8)[...]) }
        #expect(valid(""))
        #expect(valid(" ; a = b ;c;d=\"x\\\"y\""))
        #expect(!valid("a"))
        #expect(!valid(";"))
        #expect(!valid(";a=\"x"))
        #expect(!valid(";a=b c"))
    }
}
