public import ClusterCore
public import FoundationEssentials

/// The encoding rules of the protocol: JSON with snake_case keys, times as RFC 3339 UTC strings with
/// milliseconds, ids as strings. Every request and response type in this module goes through these.
public enum WireJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        // The fast path writes Foundation's bytes for what it is sure of, and leaves the rest to Foundation
        // (FastJSONEncoder).
        if let bytes = try? FastJSON.encode(value) { return bytes }
        return foundationEncode(value)
    }

    /// Foundation's encoding alone: what the fast path must write byte for byte.
    public static func foundationEncode<T: Encodable>(_ value: T) -> [UInt8] {
        // Encoding our own value types cannot fail (no non-finite floats, no custom throwing encoders).
        (try? [UInt8](encoder().encode(value))) ?? Array("{}".utf8)
    }

    public static func encodePretty<T: Encodable>(_ value: T) -> String {
        let encoder = encoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }

    /// Decodes a request body, turning every failure into a `WireDecodingError` that names the field.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(WireDecodingError) -> T {
        guard !bytes.isEmpty else {
            throw WireDecodingError(field: nil, message: "the request body is empty; send JSON")
        }
        if let key = DuplicateKeys.first(in: bytes) {
            throw WireDecodingError(field: String(key.prefix(64)), message: "appears twice; give each field once")
        }
        // The fast path decodes what our own clients send; anything it is not sure of, and every error, is
        // Foundation's (FastJSON).
        if let value = try? FastJSON.decode(type, from: bytes) { return value }
        do {
            return try decoder().decode(type, from: Data(bytes))
        } catch let error as WireDecodingError {
            throw error
        } catch let error as DecodingError {
            throw WireDecodingError(error)
        } catch {
            throw WireDecodingError(field: nil, message: "invalid JSON")
        }
    }
}

/// A request body that could not be decoded: which field, and what was wrong.
public struct WireDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public let field: String?
    public let message: String

    public init(field: String?, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }

    init(_ error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String? {
            let parts = keys.map { key in key.intValue.map { "[\($0)]" } ?? wireName(key.stringValue) }
            guard !parts.isEmpty else { return nil }
            return parts.enumerated().map {
                $0.offset > 0 && !$0.element.hasPrefix("[") ? ".\($0.element)" : $0.element
            }
            .joined()
        }
        switch error {
        case .typeMismatch(let type, let context):
            self.init(field: path(context.codingPath), message: "expected \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            self.init(field: path(context.codingPath), message: "expected \(Self.describe(type)), got null")
        case .keyNotFound(let key, let context):
            self.init(field: path(context.codingPath + [key]), message: "is required")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(field: nil, message: "invalid JSON")
            } else {
                self.init(field: path(context.codingPath), message: context.debugDescription)
            }
        @unknown default:
            self.init(field: nil, message: "invalid request")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Int") { return "an integer" }
        if name.hasPrefix("String") { return "a string" }
        if name.hasPrefix("Bool") { return "true or false" }
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return "a value of another type"
    }
}

/// The wire spelling of a key in an error path: our own properties are camelCase and go out snake_case; keys
/// of user maps (`env`, `labels`) are shown as the user wrote them.
func wireName(_ key: String) -> String {
    guard let first = key.first, first.isLowercase, !key.contains("_") else { return key }
    return snakeCase(key)
}

func snakeCase(_ camel: String) -> String {
    var out = ""
    for character in camel {
        if character.isUppercase {
            out.append("_")
            out.append(contentsOf: character.lowercased())
        } else {
            out.append(character)
        }
    }
    return out
}

/// A coding key that accepts any string, to list the keys an object actually has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Refuses keys the type does not know: a typo in a spec (`gpu: 2`) must not be silently ignored.
    func refuseUnknownKeys(allowed: Set<String>) throws {
        let container = try self.container(keyedBy: AnyKey.self)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw WireDecodingError(field: snakeCase(key.stringValue), message: "unknown field")
        }
    }
}

/// Timestamps on the wire: "2026-11-22T16:12:48.123Z".
public enum WireTime {
    public static func format(_ time: Timestamp) -> String {
        let ms = time.milliseconds
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        let (y, m, d) = civil(fromDays: days)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(msOfDay / 3_600_000, 2)):"
            + "\(pad(msOfDay / 60_000 % 60, 2)):\(pad(msOfDay / 1000 % 60, 2)).\(pad(msOfDay % 1000, 3))Z"
    }

    public static func parse(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else { return nil }
                value = value * 10 + Int64(bytes[i] - 48)
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        guard separators.allSatisfy({ bytes[$0.0] == $0.1.asciiValue }),
            let y = number(0..<4), let mo = number(5..<7), let d = number(8..<10), let h = number(11..<13),
            let mi = number(14..<16), let s = number(17..<19), (1...12).contains(mo), d >= 1,
            d <= daysInMonth(year: y, month: mo), h < 24, mi < 60, s < 60
        else { return nil }
        var ms: Int64 = 0
        if bytes[19] == UInt8(ascii: ".") {
            // 1 to 9 fraction digits (milliseconds to nanoseconds); only the first three matter.
            let digits = bytes.count - 21
            guard (1...9).contains(digits), let fraction = number(20..<(bytes.count - 1)) else { return nil }
            ms = digits >= 3 ? fraction / pow10(digits - 3) : fraction * pow10(3 - digits)
        } else if bytes.count != 20 {
            return nil
        }
        let days = days(fromCivil: y, mo, d)
        return Timestamp(milliseconds: days * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + ms)
    }

    private static func pow10(_ n: Int) -> Int64 { (0..<n).reduce(1) { v, _ in v * 10 } }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's civil-from-days and days-from-civil algorithms.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
