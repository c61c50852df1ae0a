import Testing

@testable import HTTPKit

/// The plain-HTTP client's response parser (issue 16): framing by Content-Length, chunks or the close,
/// interim responses skipped, and malformed, conflicting or oversized answers refused rather than guessed at.
@Suite struct ResponseParserTests {
    private func parse(
        _ pieces: [String],
        head: Bool = false,
        close: Bool = false
    ) -> (ResponseParser, ResponseParser.Step) {
        var parser = ResponseParser(isHead: head)
        var step = ResponseParser.Step.needMore
        for piece in pieces { step = parser.feed(Array(piece.utf8)) }
        if close { step = parser.end() }
        return (parser, step)
    }

    @Test func aBodyByContentLengthArrivingInPieces() {
        let (parser, step) = parse([
            "HTTP/1.1 201 Created\r\nContent-Len", "gth: 11\r\nX-A:  b \r\n\r\nhello", " world",
        ])
        #expect(step == .complete(reusable: true))
        #expect(parser.status == 201)
        #expect(String(decoding: parser.body, as: UTF8.self) == "hello world")
        #expect(parser.headers["x-a"] == "b")
    }

    @Test func aChunkedBodyAndAnInterimResponse() {
        let (parser, step) = parse([
            "HTTP/1.1 100 Continue\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        ])
        #expect(step == .complete(reusable: true))
        #expect(parser.status == 200)
        #expect(String(decoding: parser.body, as: UTF8.self) == "hello world")
    }

    @Test func noBodyForHeadOr204AndABodyUntilTheClose() {
        #expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"], head: true).1 == .complete(reusable: true))
        #expect(parse(["HTTP/1.1 204 No Content\r\n\r\n"]).1 == .complete(reusable: true))
        let (parser, step) = parse(["HTTP/1.1 200 OK\r\n\r\nall of ", "it"], close: true)
        #expect(step == .complete(reusable: false))
        #expect(String(decoding: parser.body, as: UTF8.self) == "all of it")
    }

    @Test func aConnectionThatCannotCarryAnotherRequest() {
        #expect(
            parse(["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"]).1 == .complete(reusable: false)
        )
        #expect(parse(["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"]).1 == .complete(reusable: false))
        #expect(
            parse(["HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"]).1
                == .complete(reusable: true)
        )
        // Bytes after the response that nobody asked for: the connection is not trusted again.
        #expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1"]).1 == .complete(reusable: false))
    }

    @Test func malformedAnswersAreErrors() {
        let bad = [
            "HTTP/2 200 OK\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 099 Low\r\n\r\n",
            "SMTP 220 hello\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ]
        for text in bad {
            guard case .error = parse([text]).1 else {
                Issue.record("accepted \(text.debugDescription)")
                continue
            }
        }
    }

    @Test func aHeadOver64KiBAndAnEarlyCloseAreErrors() {
        let huge = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 70_000)
        guard case .error(let message) = parse([huge]).1 else {
            Issue.record("accepted a 70 KB head")
            return
        }
        #expect(message.contains("64 KiB"))
        guard case .error(let early) = parse(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"], close: true).1
        else {
            Issue.record("accepted a short body")
            return
        }
        #expect(early.contains("before the response was complete"))
        #expect(parse([], close: true).1 == .error("empty reply from server"))
    }
}

/// Which base URLs the plain-HTTP client takes: addresses and localhost; a DNS name, https, user info or a
/// malformed authority go to libcurl.
@Suite struct PlainTargetTests {
    @Test func addressesAndLocalhostOnly() {
        let v4 = PlainTarget(baseURL: "http://127.0.0.1:8700/")
        #expect(v4?.host == "127.0.0.1" && v4?.port == 8700 && v4?.authority == "127.0.0.1:8700" && v4?.prefix == "")
        let v6 = PlainTarget(baseURL: "http://[::1]:9000/api")
        #expect(v6?.host == "::1" && v6?.port == 9000 && v6?.prefix == "/api")
        #expect(PlainTarget(baseURL: "http://localhost")?.port == 80)
        for refused in [
            "http://controller.example:8700", "https://127.0.0.1:8700", "http://user@127.0.0.1:1",
            "http://127.0.0.1:99999", "http://127.0.0.1:x", "http://[::1", "http://", "http://127.0.0.1/a?b",
            "http://127.0.0.1:1:2", "ftp://127.0.0.1",
        ] {
            #expect(PlainTarget(baseURL: refused) == nil, "\(refused)")
        }
    }
}
