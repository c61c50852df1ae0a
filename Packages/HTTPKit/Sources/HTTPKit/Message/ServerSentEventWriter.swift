/// Writes server-sent events (`text/event-stream`, HTML Living Standard section 9.2) over a streamed
/// response; see `HTTPResponse.eventStream`. Back-pressure and disconnect behave as `ResponseBodyWriter`.
public struct ServerSentEventWriter: Sendable {
    public let body: ResponseBodyWriter

    public init(body: ResponseBodyWriter) {
        self.body = body
    }

    /// One event: optional `event:` and `id:` lines, then `data` as one `data:` line per line of text.
    /// CR and LF are removed from `event` and `id`, which cannot carry them.
    public func send(data: String, event: String? = nil, id: String? = nil) async throws {
        var text = ""
        if let event { text += "event: \(Self.singleLine(event))\n" }
        if let id { text += "id: \(Self.singleLine(id))\n" }
        for line in data.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            text += "data: \(line)\n"
        }
        try await body.write(text + "\n")
    }

    /// A comment line (`: text`), which clients ignore; useful as a keep-alive through proxies.
    public func comment(_ text: String = "") async throws {
        try await body.write(": \(Self.singleLine(text))\n\n")
    }

    private static func singleLine(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }.map(Character.init))
    }
}
