/// Turns an `HTTPResponse` into HTTP/1.1 bytes. The server owns framing: handler-set Content-Length,
/// Transfer-Encoding and Connection headers are replaced, and CR/LF are stripped from names and values.
enum ResponseSerializer {
    static func serialize(
        _ response: HTTPResponse,
        headRequest: Bool,
        keepAlive: Bool,
        http10: Bool,
        into out: inout [UInt8]
    ) {
        let status = response.status
        writeStatusAndHeaders(response, into: &out)
        if status.allowsBody {
            out.append(contentsOf: "Content-Length: \(response.body.count)\r\n".utf8)
        }
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if http10 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        if status.allowsBody && !headRequest {
            out.append(contentsOf: response.body)
        }
    }

    /// The status line and the handler's headers, less the framing ones the server sets itself.
    private static func writeStatusAndHeaders(_ response: HTTPResponse, into out: inout [UInt8]) {
        out.append(contentsOf: "HTTP/1.1 \(response.status.code) \(clean(response.status.reason))\r\n".utf8)
        for (name, value) in response.headers {
            if HTTPHeaders.sameName(name, "Content-Length") || HTTPHeaders.sameName(name, "Transfer-Encoding")
                || HTTPHeaders.sameName(name, "Connection")
            {
                continue
            }
            out.append(contentsOf: "\(clean(name)): \(clean(value))\r\n".utf8)
        }
    }

    /// The head of a streamed response: chunked for HTTP/1.1, close-delimited for HTTP/1.0.
    static func serializeStreamingHead(
        _ response: HTTPResponse,
        keepAlive: Bool,
        http10: Bool,
        into out: inout [UInt8]
    ) {
        let status = response.status
        writeStatusAndHeaders(response, into: &out)
        if status.allowsBody && !http10 {
            out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        }
        out.append(contentsOf: (keepAlive && !http10 ? "\r\n" : "Connection: close\r\n\r\n").utf8)
    }

    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    static let continueLine: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private static func clean(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == .cr || $0 == .lf }) else { return text }
        return String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }.map(Character.init))
    }
}
