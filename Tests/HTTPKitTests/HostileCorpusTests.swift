import HTTPKit
import Testing

/// Malformed and hostile requests over raw sockets: each must get its status and a closed connection (or
/// just a closed connection), and the server must keep serving well-formed requests afterwards.
@Suite(.serialized) struct HostileCorpusTests {
    enum Outcome: Sendable, CustomStringConvertible {
        /// This status, then the connection closes.
        case status(Int)
        /// This status or a bare close (nothing was complete enough to answer).
        case statusOrClose(Int)

        var description: String {
            switch self {
            case .status(let code): "\(code) and close"
            case .statusOrClose(let code): "\(code) or close"
            }
        }
    }

    static let host = "Host: corpus\r\n"
    static let post = "POST /echo HTTP/1.1\r\n" + host

    /// (name, bytes, expected outcome). Limits: head 4096, request line 1024, body 1000, 50 fields.
    static let corpus: [(String, [UInt8], Outcome)] = {
        var cases: [(String, String, Outcome)] = [
            // Request smuggling: Content-Length and Transfer-Encoding
            ("CL.TE", post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", .status(400)),
            ("TE.CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", .status(400)),
            ("duplicate CL", post + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", .status(400)),
            ("conflicting CL", post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", .status(400)),
            ("CL list", post + "Content-Length: 3, 3\r\n\r\nabc", .status(400)),
            ("CL not a number", post + "Content-Length: abc\r\n\r\n", .status(400)),
            ("CL negative", post + "Content-Length: -3\r\n\r\nabc", .status(400)),
            ("CL plus sign", post + "Content-Length: +3\r\n\r\nabc", .status(400)),
            ("CL hex", post + "Content-Length: 0x3\r\n\r\nabc", .status(400)),
            ("CL overflow", post + "Content-Length: 99999999999999999999999999\r\n\r\n", .status(413)),
            (
                "CL over limit", post + "Content-Length: 5000\r\n\r\n" + String(repeating: "x", count: 5000),
                .status(413)
            ),
            ("TE gzip only", post + "Transfer-Encoding: gzip\r\n\r\nabc", .status(400)),
            ("TE chunked then gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", .status(400)),
            ("TE unknown coding", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", .status(501)),
            ("TE chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", .status(400)),
            ("TE two fields", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n", .status(400)),
            ("TE xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", .status(400)),
            ("TE vertical tab", post + "Transfer-Encoding: \u{0B}chunked\r\n\r\n0\r\n\r\n", .status(400)),
            ("TE space before colon", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", .status(400)),
            ("TE in HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .status(400)),
            // Chunked bodies
            ("chunk size not hex", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", .status(400)),
            ("chunk size 0x", post + "Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", .status(400)),
            ("chunk size negative", post + "Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", .status(400)),
            ("chunk size empty", post + "Transfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n", .status(400)),
            (
                "chunk size overflow", post + "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFF\r\n",
                .status(413)
            ),
            (
                "chunked over limit",
                post + "Transfer-Encoding: chunked\r\n\r\n300\r\n" + String(repeating: "a", count: 768) + "\r\n300\r\n",
                .status(413)
            ),
            ("bad chunk extension", post + "Transfer-Encoding: chunked\r\n\r\n3;\"x\r\nabc\r\n0\r\n\r\n", .status(400)),
            ("chunk data too long", post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n", .status(400)),
            ("bare LF after chunk size", post + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", .status(400)),
            ("bare CR after chunk size", post + "Transfer-Encoding: chunked\r\n\r\n3\rabc\r\n0\r\n\r\n", .status(400)),
            ("bad trailer", post + "Transfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n", .status(400)),
            // Head syntax
            ("obs-fold", "GET /hello HTTP/1.1\r\n" + host + "X-A: b\r\n folded\r\n\r\n", .status(400)),
            ("whitespace before first field", "GET /hello HTTP/1.1\r\n " + host + "\r\n", .status(400)),
            ("space before colon", "GET /hello HTTP/1.1\r\n" + host + "X-A : b\r\n\r\n", .status(400)),
            ("no colon", "GET /hello HTTP/1.1\r\n" + host + "NoColon\r\n\r\n", .status(400)),
            ("empty field name", "GET /hello HTTP/1.1\r\n" + host + ": b\r\n\r\n", .status(400)),
            ("bare CR in value", "GET /hello HTTP/1.1\r\n" + host + "X-A: b\rc\r\n\r\n", .status(400)),
            ("bare CR in request line", "GET /hello\r HTTP/1.1\r\n" + host + "\r\n", .status(400)),
            ("NUL in value", "GET /hello HTTP/1.1\r\n" + host + "X-A: b\0c\r\n\r\n", .status(400)),
            ("NUL in target", "GET /hel\0lo HTTP/1.1\r\n" + host + "\r\n", .status(400)),
            ("NUL in method", "G\0T /hello HTTP/1.1\r\n" + host + "\r\n", .status(400)),
            ("missing Host", "GET /hello HTTP/1.1\r\n\r\n", .status(400)),
            ("two Hosts", "GET /hello HTTP/1.1\r\n" + host + host + "\r\n", .status(400)),
            ("Host with space", "GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n", .status(400)),
            ("double space in request line", "GET  /hello HTTP/1.1\r\n" + host + "\r\n", .status(400)),
            ("non-http absolute form", "GET ftp://x/hello HTTP/1.1\r\n" + host + "\r\n", .status(400)),
            ("bad percent-encoding", "GET /he%zzllo HTTP/1.1\r\n" + host + "\r\n", .status(400)),
            // Versions and prefaces
            ("HTTP/0.9 with blank line", "GET /hello\r\n\r\n", .status(400)),
            ("HTTP/0.9 bare", "GET /hello\r\n", .statusOrClose(408)),
            ("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .status(505)),
            ("HTTP/1.2", "GET /hello HTTP/1.2\r\n" + host + "\r\n", .status(505)),
            ("lowercase version", "GET /hello http/1.1\r\n" + host + "\r\n", .status(400)),
            // Limits
            (
                "long request line", "GET /" + String(repeating: "a", count: 2000) + " HTTP/1.1\r\n" + host + "\r\n",
                .status(414)
            ),
            (
                "long header",
                "GET /hello HTTP/1.1\r\n" + host + "X-Big: " + String(repeating: "b", count: 5000) + "\r\n\r\n",
                .status(431)
            ),
            (
                "header flood", "GET /hello HTTP/1.1\r\n" + host + String(repeating: "X-F: 1\r\n", count: 60) + "\r\n",
                .status(431)
            ),
            ("100-continue over limit", post + "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n", .status(413)),
            // Truncation: the body or head never completes
            ("truncated body", post + "Content-Length: 10\r\n\r\nabc", .statusOrClose(408)),
            ("truncated chunked body", post + "Transfer-Encoding: chunked\r\n\r\n5\r\nab", .statusOrClose(408)),
            ("truncated head", "GET /hello HTTP/1.1\r\n" + host, .statusOrClose(408)),
        ]
        cases.append(("binary garbage", "", .status(400)))
        return cases.map { name, text, outcome in
            (name, text.isEmpty ? [0xFF, 0xFE, 0x00, 0x01, 0x0D, 0x0A, 0x0D, 0x0A] : Array(text.utf8), outcome)
        }
    }()

    private func configure(_ configuration: inout HTTPServerConfiguration) {
        configuration.maxHeaderBytes = 4096
        configuration.maxRequestLineBytes = 1024
        configuration.maxBodyBytes = 1000
        configuration.maxHeaderCount = 50
        configuration.headerReadTimeout = .milliseconds(500)
        configuration.bodyReadTimeout = .milliseconds(500)
    }

    @Test func corpusHasAtLeastFortyCases() {
        #expect(Self.corpus.count >= 40)
    }

    @Test func hostileRequestsAreRefusedAndServingContinues() async throws {
        try await withTestServer(testRouter(), configure: configure) { server in
            for (name, bytes, outcome) in Self.corpus {
                // The receive timeout (20 s) is far beyond the 0.5 s read timeouts the truncated cases wait on.
                let socket = try RawSocket(port: server.port, receiveTimeoutSeconds: 20)
                socket.send(bytes)
                let (received, closed) = try await offPool { socket.readToEnd() }
                let response = RawResponse.parse(received)
                #expect(closed, "\(name): connection left open")
                switch outcome {
                case .status(let code):
                    #expect(response?.status == code, "\(name): expected \(outcome), got \(text(received).prefix(40))")
                case .statusOrClose(let code):
                    #expect(response == nil || response?.status == code, "\(name): got \(text(received).prefix(40))")
                }
                if let response, response.status != 100 {
                    #expect(response.header("Connection") == "close", "\(name)")
                }
            }
            try await expectStillServing(server)
        }
    }

    /// Well-formed requests after the corpus: keep-alive, pipelined, chunked and from the curl CLI.
    private func expectStillServing(_ server: HTTPServer) async throws {
        let socket = try RawSocket(port: server.port)
        socket.send(
            "GET /hello HTTP/1.1\r\n" + Self.host + "\r\n" + Self.post
                + "Transfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n"
                + "GET /items/7?q=x HTTP/1.1\r\n" + Self.host + "Connection: close\r\n\r\n"
        )
        let (bytes, closed) = try await offPool { socket.readToEnd() }
        #expect(RawResponse.parseAll(bytes).map(\.bodyText) == ["hello", "wikipedia", "item 7 q=x"])
        #expect(closed)
        let reply = try await client(for: server).execute(.get, "/hello")
        #expect(reply.status == 200)
    }
}
