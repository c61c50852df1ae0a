/// JSON objects with a key given twice are refused: JSONDecoder keeps the last value, so `{"gpus": 1, "gpus": 8}`
/// would mean whatever a proxy, a log or a reviewer did not read (issue 18). A linear scan of the bytes before
/// decoding: keys are compared decoded (`"a"` and `"\u0061"` are the same key); anything malformed is left to
/// the decoder to report.
enum DuplicateKeys {
    /// The first key that appears twice in one object, if any.
    static func first(in bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            // Nearly every body has no duplicate: a scan that hashes keys in place says so without making a
            // String of each key (issue 16: the String scan was a tenth of the controller's time under
            // heartbeats). Only a body where two keys hash alike is read again, exactly.
            guard scan(buffer, Hashed()) != nil else { return nil }
            return scan(buffer, Exact())
        }
    }

    /// How keys are told apart in one scan.
    private protocol KeySet {
        associatedtype Key: Hashable
        /// The key of the string that starts after its opening quote, and the index after its closing quote.
        func key(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> (Key, Int)?
        func describe(_ key: Key) -> String
    }

    /// Keys as the hashes of their decoded Strings, so that keys Swift finds equal hash alike whatever their
    /// spelling (an escape, or U+212A KELVIN SIGN for "K"). Plain ASCII becomes its String without the decoding
    /// loop (and, up to 15 bytes, without an allocation); anything else is decoded first.
    private struct Hashed: KeySet {
        func key(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> (Int, Int)? {
            var index = start
            while index < buffer.count {
                let byte = buffer[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
                    return (text.hashValue, index + 1)
                }
                if byte == UInt8(ascii: "\\") || byte >= 0x80 { break }
                index += 1
            }
            guard let (text, end) = DuplicateKeys.string(buffer, from: start) else { return nil }
            return (text.hashValue, end)
        }

        func describe(_ key: Int) -> String { "" }
    }

    /// Keys decoded to Strings and compared as Swift compares them.
    private struct Exact: KeySet {
        func key(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> (String, Int)? {
            DuplicateKeys.string(buffer, from: start)
        }

        func describe(_ key: String) -> String { key }
    }

    /// The first repeated key as `keys` tells them apart; nil when none, or at the first malformed string.
    private static func scan<Keys: KeySet>(_ buffer: UnsafeBufferPointer<UInt8>, _ keys: Keys) -> String? {
        // One entry per open object or array: the keys seen (objects only), and whether a key comes next.
        var seen: [Set<Keys.Key>] = []
        var isObject: [Bool] = []
        var expectingKey: [Bool] = []
        var index = 0
        while index < buffer.count {
            let byte = buffer[index]
            index += 1
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                seen.append([])
                isObject.append(byte == UInt8(ascii: "{"))
                expectingKey.append(byte == UInt8(ascii: "{"))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !seen.isEmpty {
                    seen.removeLast()
                    isObject.removeLast()
                    expectingKey.removeLast()
                }
            case UInt8(ascii: ","):
                if let top = isObject.indices.last, isObject[top] { expectingKey[top] = true }
            case UInt8(ascii: "\""):
                guard let top = isObject.indices.last, isObject[top], expectingKey[top] else {
                    guard let end = stringEnd(buffer, from: index) else { return nil }
                    index = end
                    continue
                }
                guard let (key, end) = keys.key(buffer, from: index) else { return nil }
                index = end
                if !seen[top].insert(key).inserted { return keys.describe(key) }
                expectingKey[top] = false
            default:
                continue
            }
        }
        return nil
    }

    /// The index after the closing quote of the string that starts after its opening quote.
    private static func stringEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        while index < buffer.count {
            switch buffer[index] {
            case UInt8(ascii: "\""): return index + 1
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
        return nil
    }

    /// The string starting after its opening quote, decoded, and the index after its closing quote.
    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (String, Int)? {
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        var index = start
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") {
                flush()
                return (String(scalars), index)
            }
            guard byte == UInt8(ascii: "\\") else {
                raw.append(byte)
                continue
            }
            guard index < bytes.count else { return nil }
            let escape = bytes[index]
            index += 1
            flush()
            switch escape {
            case UInt8(ascii: "u"):
                guard index + 4 <= bytes.count,
                    let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                else { return nil }
                index += 4
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "b"): scalars.append("\u{8}")
            case UInt8(ascii: "f"): scalars.append("\u{C}")
            default: scalars.append(Unicode.Scalar(escape))
            }
        }
        return nil
    }
}
