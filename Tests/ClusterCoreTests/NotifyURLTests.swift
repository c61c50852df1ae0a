import ClusterCore
import Testing

/// `--notify URL` (issue 17): what is accepted, what is refused and why, and what people are shown.
@Suite struct NotifyURLTests {
    @Test(arguments: [
        ("https://hooks.example.com/services/T0/B0/secret", "https", "hooks.example.com", "/services/T0/B0/secret"),
        ("http://127.0.0.1:9000", "http", "127.0.0.1:9000", "/"),
        ("HTTP://[::1]:80?job=1", "http", "[::1]:80", "/?job=1"),
        ("https://ci.example.org/hook?x=%20y#frag", "https", "ci.example.org", "/hook?x=%20y"),
    ])
    func accepted(_ text: String, _ scheme: String, _ authority: String, _ path: String) throws {
        let url = try NotifyURL.parse(text)
        #expect(url.scheme == scheme && url.authority == authority && url.path == path)
    }

    @Test(arguments: [
        ("ftp://example.com/x", "http:// or https://"), ("example.com/hook", "http:// or https://"),
        ("https://", "no host"), ("https://:80/x", "no host"), ("https://user:pw@example.com/", "credentials"),
        ("https://example.com/a b", "printable ASCII"), ("https://exämple.com/", "printable ASCII"),
        ("https://example.com/\n", "printable ASCII"), ("javascript:alert(1)", "http:// or https://"),
        ("https://example.com/" + String(repeating: "a", count: 2100), "longer than 2048"),
    ])
    func refused(_ text: String, _ why: String) {
        #expect {
            try NotifyURL.parse(text)
        } throws: { error in
            (error as? SpecError).map { $0.field == "notify" && $0.message.contains(why) } ?? false
        }
    }

    @Test func peopleSeeTheHostNotThePathWhichMayBeASecret() throws {
        #expect(
            try NotifyURL.parse("https://hooks.example.com/services/T0/B0/secret").redacted
                == "https://hooks.example.com/…"
        )
        #expect(try NotifyURL.parse("http://127.0.0.1:9000").redacted == "http://127.0.0.1:9000/")
    }
}
