extension TOML {
    /// Writes `table` as a TOML document. In each table, plain values come first (in key order), then
    /// sub-tables as `[a.b]` sections, then arrays of tables as `[[a.b]]` sections. Strings are written as
    /// basic strings with escapes; floats in their shortest round-tripping form. `parse(render(x)) == x`.
    public static func render(_ table: TOMLTable) -> String {
        var out = ""
        TOMLWriter.body(table, path: [], into: &out)
        return out
    }
}

enum TOMLWriter {
    static func body(_ table: TOMLTable, path: [String], into out: inout String) {
        var tables: [(key: String, value: TOMLValue)] = []
        var arraysOfTables: [(key: String, value: TOMLValue)] = []
        for (key, value) in table.entries {
            if case .table = value {
                tables.append((key, value))
            } else if isArrayOfTables(value) {
                arraysOfTables.append((key, value))
            } else {
                out += "\(self.key(key)) = \(inline(value))\n"
            }
        }
        for (key, value) in tables + arraysOfTables {
            let childPath = path + [key]
            let header = childPath.map(self.key).joined(separator: ".")
            switch value {
            case .table(let child):
                if !out.isEmpty { out += "\n" }
                out += "[\(header)]\n"
                body(child, path: childPath, into: &out)
            case .array(let elements):
                for element in elements {
                    if !out.isEmpty { out += "\n" }
                    out += "[[\(header)]]\n"
                    body(element.tableValue ?? TOMLTable(), path: childPath, into: &out)
                }
            default:
                break
            }
        }
    }

    /// Non-empty arrays made only of tables are written as `[[sections]]`.
    private static func isArrayOfTables(_ value: TOMLValue) -> Bool {
        guard case .array(let elements) = value else { return false }
        return !elements.isEmpty && elements.allSatisfy { $0.tableValue != nil }
    }

    /// A value on one line: inline tables `{ a = 1 }` and arrays `[1, 2]`.
    static func inline(_ value: TOMLValue) -> String {
        switch value {
        case .string(let text):
            return string(text)
        case .integer(let number):
            return String(number)
        case .float(let number):
            return float(number)
        case .boolean(let flag):
            return flag ? "true" : "false"
        case .array(let elements):
            return "[" + elements.map(inline).joined(separator: ", ") + "]"
        case .table(let table):
            if table.isEmpty { return "{}" }
            return "{ " + table.entries.map { "\(key($0.key)) = \(inline($0.value))" }.joined(separator: ", ") + " }"
        }
    }

    static func float(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        let text = "\(number)"  // shortest form that reads back exactly: 1.0, 0.1, 1e+16, 5e-324
        return text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) ? text : text + ".0"
    }

    /// A bare key when it can be one, else a quoted key.
    static func key(_ key: String) -> String {
        let bare =
            !key.isEmpty
            && key.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F
            }
        return bare ? key : string(key)
    }

    /// A basic string: `"`, `\` and control characters escaped; everything else as is.
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
