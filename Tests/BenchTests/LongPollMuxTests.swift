import Testing

@testable import BenchKit

/// The simulator's HTTP/1.1 response reader: a whole response or nothing, with its Content-Length body.
@Suite struct LongPollMuxTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func aWholeResponseIsTakenWithItsBodyOnly() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCONTENT-LENGTH:  13\r\n\r\n{\"launch\":[]}"
        let (status, body, used) = try #require(LongPollMux.response(Self.bytes(text) + Self.bytes("HTTP/1.1")))
        #expect(status == 200 && body == Self.bytes("{\"launch\":[]}") && used == text.utf8.count)
    }

    /// It speaks plain HTTP to an IPv4 address and port, and says so for anything else.
    @Test func anEndpointItCannotReachIsRefused() {
        for endpoint in [
            "https://127.0.0.1:443", "http://localhost:80", "http://127.0.0.1", "http://127.0.0.1:99999", "",
        ] {
            #expect(throws: BenchError.self, "\(endpoint)") { _ = try LongPollMux(endpoint: endpoint) }
        }
    }

    @Test func anIncompleteResponseWaitsForMore() {
        #expect(LongPollMux.response(Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n")) == nil)
        #expect(LongPollMux.response(Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc")) == nil)
        #expect(LongPollMux.response([]) == nil)
    }

    @Test func otherStatusesAndNoBodyAreReported() throws {
        let (status, body, _) = try #require(LongPollMux.response(Self.bytes("HTTP/1.1 503 Busy\r\n\r\n")))
        #expect(status == 503 && body.isEmpty)
        let (garbled, _, used) = try #require(LongPollMux.response(Self.bytes("nonsense\r\n\r\n")))
        #expect(garbled == 0 && used == 12)
        for length in ["-5", "99999999999999999999", "9223372036854775807"] {
            let text = "HTTP/1.1 200 OK\r\nContent-Length: \(length)\r\n\r\n{}"
            let (status, _, _) = try #require(LongPollMux.response(Self.bytes(text)), "\(length)")
            #expect(status == 0, "a length of \(length) is a garbled answer")
        }
    }
}
