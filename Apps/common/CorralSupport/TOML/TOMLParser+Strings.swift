/// The four string forms (basic, literal, and their multi-line variants) and escapes.
extension TOMLParser {
    mutating func parseBasicString() throws(TOMLError) -> String {
        let openLine = line
        position += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek(), byte != Byte.newline, byte != Byte.carriageReturn else {
                throw TOMLError(line: openLine, message: "unterminated string")
            }
            switch byte {
            case Byte.quote:
                position += 1
                return String(decoding: out, as: UTF8.self)
            case Byte.backslash:
                try parseEscape(into: &out)
            default:
                try checkControl(byte, in: "string")
                out.append(byte)
                position += 1
            }
        }
    }

    mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        let openLine = line
        position += 3
        try skipNewlineAfterOpeningDelimiter()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw TOMLError(line: openLine, message: "unterminated multi-line string")
            }
            switch byte {
            case Byte.quote:
                if try closesMultiline(Byte.quote, into: &out) { return String(decoding: out, as: UTF8.self) }
            case Byte.backslash:
                if lineEndingBackslash() {
                    try skipBlankAfterLineEndingBackslash()
                } else {
                    try parseEscape(into: &out)
                }
            case Byte.newline, Byte.carriageReturn:
                try consumeNewline()
                out.append(Byte.newline)
            default:
                try checkControl(byte, in: "string")
                out.append(byte)
                position += 1
            }
        }
    }

    mutating func parseLiteralString() throws(TOMLError) -> String {
        let openLine = line
        position += 1
        let start = position
        while true {
            guard let byte = peek(), byte != Byte.newline, byte != Byte.carriageReturn else {
                throw TOMLError(line: openLine, message: "unterminated string")
            }
            if byte == Byte.apostrophe {
                let text = String(decoding: bytes[start..<position], as: UTF8.self)
                position += 1
                return text
            }
            try checkControl(byte, in: "string")
            position += 1
        }
    }

    mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        let openLine = line
        position += 3
        try skipNewlineAfterOpeningDelimiter()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw TOMLError(line: openLine, message: "unterminated multi-line string")
            }
            switch byte {
            case Byte.apostrophe:
                if try closesMultiline(Byte.apostrophe, into: &out) { return String(decoding: out, as: UTF8.self) }
            case Byte.newline, Byte.carriageReturn:
                try consumeNewline()
                out.append(Byte.newline)
            default:
                try checkControl(byte, in: "string")
                out.append(byte)
                position += 1
            }
        }
    }

    /// At a run of `delimiter`s inside a multi-line string: three or more close it (up to two more belong
    /// to the content); fewer are content.
    mutating func closesMultiline(_ delimiter: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var run = 0
        while peek() == delimiter {
            run += 1
            position += 1
        }
        if run < 3 {
            out.append(contentsOf: repeatElement(delimiter, count: run))
            return false
        }
        guard run <= 5 else { throw error("too many quotes closing a multi-line string") }
        out.append(contentsOf: repeatElement(delimiter, count: run - 3))
        return true
    }

    mutating func skipNewlineAfterOpeningDelimiter() throws(TOMLError) {
        if peek() == Byte.newline || (peek() == Byte.carriageReturn && peek(1) == Byte.newline) {
            try consumeNewline()
        }
    }

    /// A backslash followed only by spaces up to the end of the line.
    func lineEndingBackslash() -> Bool {
        var index = position + 1
        while index < bytes.count, bytes[index] == Byte.space || bytes[index] == Byte.tab { index += 1 }
        guard index < bytes.count else { return false }
        return bytes[index] == Byte.newline || bytes[index] == Byte.carriageReturn
    }

    mutating func skipBlankAfterLineEndingBackslash() throws(TOMLError) {
        position += 1
        while let byte = peek() {
            if byte == Byte.space || byte == Byte.tab {
                position += 1
            } else if byte == Byte.newline || byte == Byte.carriageReturn {
                try consumeNewline()
            } else {
                return
            }
        }
    }

    mutating func parseEscape(into out: inout [UInt8]) throws(TOMLError) {
        position += 1  // the backslash
        guard let byte = peek() else { throw error("unterminated string") }
        position += 1
        switch byte {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(Byte.tab)
        case UInt8(ascii: "n"): out.append(Byte.newline)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(Byte.carriageReturn)
        case UInt8(ascii: "e"): out.append(0x1B)  // TOML 1.1
        case Byte.quote: out.append(Byte.quote)
        case Byte.backslash: out.append(Byte.backslash)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let length = byte == UInt8(ascii: "u") ? 4 : 8
            guard position + length <= bytes.count else { throw error("incomplete unicode escape") }
            let hex = String(decoding: bytes[position..<position + length], as: UTF8.self)
            guard hex.allSatisfy(\.isHexDigit), let code = UInt32(hex, radix: 16) else {
                throw error("invalid unicode escape \\\(Character(Unicode.Scalar(byte)))\(hex)")
            }
            guard let scalar = Unicode.Scalar(code) else {
                throw error("invalid unicode escape \\\(Character(Unicode.Scalar(byte)))\(hex): not a Unicode scalar")
            }
            position += length
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            position -= 1
            throw error("invalid escape \\\(describeByte(at: position))")
        }
    }

    func checkControl(_ byte: UInt8, in context: String) throws(TOMLError) {
        if (byte < Byte.space && byte != Byte.tab) || byte == Byte.delete {
            let code = String(byte, radix: 16, uppercase: true)
            throw error("control character U+\(String(repeating: "0", count: 4 - code.count))\(code) in \(context)")
        }
    }
}
