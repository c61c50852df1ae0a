/// The exposition format: `# HELP`, `# TYPE`, then `name{label="value"} number` lines; label values escape
/// backslash, double quote and newline.
struct PrometheusText {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Int) {
        sample(name, labels, text: String(value))
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        sample(name, labels, text: Self.number(value))
    }

    private mutating func sample(_ name: String, _ labels: [String: String], text value: String) {
        let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }
        text += name + (rendered.isEmpty ? "" : "{" + rendered.joined(separator: ",") + "}") + " \(value)\n"
    }

    /// Over Unicode scalars, not Characters: "\r\n" is one Character and must not slip through as a line
    /// break (the format knows only these three escapes; a carriage return alone is an ordinary character).
    static func escape(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
