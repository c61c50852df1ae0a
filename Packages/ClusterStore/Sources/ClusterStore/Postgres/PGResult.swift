internal import CPostgres

/// A `PGresult`, cleared when the last reference goes, read as `Row`s of `SQLValue`s (text format: integers of
/// every width and booleans as `.integer`, floats and numerics as `.real`, bytea as `.blob`, the rest as `.text`).
final class PGResult {
    let handle: OpaquePointer?

    init(_ handle: OpaquePointer?) { self.handle = handle }

    deinit { PQclear(handle) }

    var status: ExecStatusType { handle.map(PQresultStatus) ?? PGRES_FATAL_ERROR }

    /// The five-letter SQLSTATE of an error, nil when the server sent none (a lost connection).
    var sqlState: String? {
        guard let handle, let field = PQresultErrorField(handle, Int32(UInt8(ascii: "C"))) else { return nil }
        return String(cString: field)
    }

    func rows(limit: Int = .max) -> [Row] {
        guard let handle else { return [] }
        let columns = Int(PQnfields(handle))
        let names = (0..<columns).map { String(cString: PQfname(handle, Int32($0))) }
        let types = (0..<columns).map { PQftype(handle, Int32($0)) }
        let index = Row.index(names)
        let count = min(Int(PQntuples(handle)), limit)
        var rows: [Row] = []
        rows.reserveCapacity(count)
        for row in 0..<count {
            let values = (0..<columns).map { column in
                value(row: Int32(row), column: Int32(column), type: types[column])
            }
            rows.append(Row(columnNames: names, indexByName: index, values: values))
        }
        return rows
    }

    private func value(row: Int32, column: Int32, type: Oid) -> SQLValue {
        guard let handle, PQgetisnull(handle, row, column) == 0, let bytes = PQgetvalue(handle, row, column) else {
            return .null
        }
        let text = String(cString: bytes)
        switch type {
        case PGType.int8, PGType.int4, PGType.int2, PGType.oid: return Int64(text).map(SQLValue.integer) ?? .text(text)
        case PGType.bool: return .integer(text == "t" ? 1 : 0)
        case PGType.float4, PGType.float8, PGType.numeric: return Double(text).map(SQLValue.real) ?? .text(text)
        case PGType.bytea: return PGType.hexBytes(text).map(SQLValue.blob) ?? .text(text)
        default: return .text(text)
        }
    }
}

/// The built-in type OIDs (`pg_type.dat`) that are read as something other than text.
enum PGType {
    static let bool: Oid = 16
    static let bytea: Oid = 17
    static let int8: Oid = 20
    static let int2: Oid = 21
    static let int4: Oid = 23
    static let oid: Oid = 26
    static let float4: Oid = 700
    static let float8: Oid = 701
    static let numeric: Oid = 1700

    /// bytea's text output, `\x` and two hex digits a byte (`bytea_output = hex`, the default).
    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count >= 2, digits[0] == UInt8(ascii: "\\"), digits[1] == UInt8(ascii: "x"), digits.count % 2 == 0
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2 - 1)
        var position = 2
        while position < digits.count {
            guard let high = nibble(digits[position]), let low = nibble(digits[position + 1]) else { return nil }
            bytes.append(high << 4 | low)
            position += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Bound values in libpq's form: text for all but blobs, which go as binary (format 1); NULL as a null pointer.
struct PGParameters {
    private let texts: [[UInt8]?]
    private let lengths: [Int32]
    private let formats: [Int32]

    init(_ bindings: [SQLValue], sql: String) throws(StoreError) {
        var texts: [[UInt8]?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for value in bindings {
            switch value {
            case .null: texts.append(nil)
            case .integer(let number): texts.append(Array(String(number).utf8) + [0])
            case .real(let number): texts.append(Array("\(number)".utf8) + [0])
            case .text(let string):
                // libpq would cut the value at a NUL, which PostgreSQL's text cannot hold: refuse it whole.
                guard !string.utf8.contains(0) else {
                    throw StoreError(code: .mismatch, message: "PostgreSQL text cannot hold a NUL character", sql: sql)
                }
                texts.append(Array(string.utf8) + [0])
            case .blob(let bytes): texts.append(bytes)
            }
            if case .blob(let bytes) = value {
                lengths.append(Int32(clamping: bytes.count))
                formats.append(1)
            } else {
                lengths.append(0)
                formats.append(0)
            }
        }
        (self.texts, self.lengths, self.formats) = (texts, lengths, formats)
    }

    func withPointers<R>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
    ) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = texts.map { bytes in
            bytes.map { bytes in
                let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
                bytes.withUnsafeBufferPointer { source in
                    source.withMemoryRebound(to: CChar.self) {
                        pointer.initialize(from: $0.baseAddress!, count: bytes.count)
                    }
                }
                return pointer
            }
        }
        defer { for pointer in pointers { pointer?.deallocate() } }
        return pointers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { values in
                    lengths.withUnsafeBufferPointer { lengths in
                        formats.withUnsafeBufferPointer { formats in
                            body(values, lengths.baseAddress, formats.baseAddress)
                        }
                    }
                }
            } ?? body(nil, nil, nil)
        }
    }
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`... in order, leaving quoted text and identifiers alone.
enum PGPlaceholders {
    static func numbered(_ sql: String) -> String {
        var output = ""
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                output.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                output.append(character)
            } else if character == "?" {
                number += 1
                output += "$\(number)"
            } else {
                output.append(character)
            }
        }
        return output
    }
}
