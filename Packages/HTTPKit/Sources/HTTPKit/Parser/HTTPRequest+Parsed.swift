extension HTTPRequest {
    /// Builds the handler-facing request: splits the target into path and query and percent-decodes both.
    public init(parsed: ParsedHTTPRequest, remoteAddress: String) throws(HTTPParseError) {
        let target = Substring(parsed.target)
        let questionMark = target.firstIndex(of: "?")
        let rawPath = questionMark.map { target[..<$0] } ?? target
        guard let path = PercentDecoding.decode(rawPath, plusAsSpace: false) else {
            throw HTTPParseError(.malformedRequestLine, "bad percent-encoding in path")
        }
        var query: [String: String] = [:]
        if let questionMark {
            guard let decoded = PercentDecoding.decodeQuery(target[target.index(after: questionMark)...]) else {
                throw HTTPParseError(.malformedRequestLine, "bad percent-encoding in query")
            }
            query = decoded
        }
        self.init(
            method: parsed.method,
            path: path,
            query: query,
            headers: parsed.headers,
            body: parsed.body,
            remoteAddress: remoteAddress
        )
    }
}
