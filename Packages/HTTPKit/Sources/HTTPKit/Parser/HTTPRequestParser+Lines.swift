extension HTTPRequestParser {
    /// `method SP request-target SP HTTP-version`, with the target in origin form (absolute form is reduced
    /// to its path, `*` is kept for OPTIONS).
    static func parseRequestLine(_ line: ArraySlice<UInt8>) -> Swift.Result<(HTTPMethod, String, Int), HTTPParseError> {
        let bad = HTTPParseError(.malformedRequestLine, "malformed request line")
        let parts = line.split(separator: .space, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(bad) }
        let (method, target, version) = (parts[0], parts[1], parts[2])
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else { return .failure(bad) }
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return .failure(bad) }
        let minor: Int
        switch Array(version) {
        case Array("HTTP/1.1".utf8): minor = 1
        case Array("HTTP/1.0".utf8): minor = 0
        case let other where other.count == 8 && other.starts(with: "HTTP/".utf8):
            return .failure(HTTPParseError(.unsupportedVersion, "unsupported HTTP version"))
        default: return .failure(bad)
        }
        var path = String(decoding: target, as: UTF8.self)
        if target.first != UInt8(ascii: "/") && path != "*" {
            // absolute form ("http://host/path"): keep the path; asterisk form is kept for OPTIONS
            let scheme = target.starts(with: "https://".utf8) ? 8 : target.starts(with: "http://".utf8) ? 7 : 0
            guard scheme > 0 else { return .failure(bad) }
            let rest = target.dropFirst(scheme)
            path = rest.firstIndex(of: UInt8(ascii: "/")).map { String(decoding: rest[$0...], as: UTF8.self) } ?? "/"
        }
        return .success((HTTPMethod(String(decoding: method, as: UTF8.self)), path, minor))
    }

    /// `field-name ":" OWS field-value OWS`. Obsolete line folding and control bytes are rejected.
    static func parseHeaderLine(
        _ line: ArraySlice<UInt8>
    ) -> Swift.Result<(name: String, value: String), HTTPParseError> {
        let bad = HTTPParseError(.malformedHeader, "malformed header field")
        guard let colon = line.firstIndex(of: .colon) else { return .failure(bad) }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return .failure(bad) }
        var value = line[(colon + 1)...]
        while let first = value.first, first == .space || first == .tab { value.removeFirst() }
        while let last = value.last, last == .space || last == .tab { value.removeLast() }
        guard value.allSatisfy({ $0 == .tab || ($0 >= 0x20 && $0 != 0x7F) }) else { return .failure(bad) }
        return .success((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }

    /// RFC 9110 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), .zero ... .nine:
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
}
