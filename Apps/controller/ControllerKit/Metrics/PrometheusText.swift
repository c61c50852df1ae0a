/// The exposition format: `# HELP`, `# TYPE`, then `name{label="value"} number` lines; label values escape
/// backslash, double quote and newline. Every sample is written under its family's header, whatever order the
/// caller gives them in (the format wants a family's lines together; a histogram's `_bucket`, `_sum` and
/// `_count` belong to it), so a caller may declare several families and then walk its data once.
struct PrometheusText {
    /// Families in the order they were declared, each its header and samples; samples of no declared family
    /// go last.
    private var order: [String] = []
    private var lines: [String: String] = [:]
    private var loose = ""

    var text: String { order.map { lines[$0] ?? "" }.joined() + loose }

    mutating func family(_ name: String, _ type: String, _ help: String) {
        if lines[name] == nil { order.append(name) }
        lines[name, default: ""] += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    /// A family of samples told apart by one label, grouped after its header as the format requires: one per
    /// key of `keys` (by default the values' keys, sorted), 0 for a key without a value.
    mutating func family(
        _ name: String,
        _ type: String,
        _ help: String,
        by label: String,
        _ values: [String: Int],
        keys: [String]? = nil
    ) {
        family(name, type, help)
        for key in keys ?? values.keys.sorted() { sample(name, [label: key], values[key] ?? 0) }
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Int) {
        sample(name, labels, text: String(value))
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        sample(name, labels, text: Self.number(value))
    }

    private mutating func sample(_ name: String, _ labels: [String: String], text value: String) {
        let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }
        let line = name + (rendered.isEmpty ? "" : "{" + rendered.joined(separator: ",") + "}") + " \(value)\n"
        let family =
            [name]
            + ["_bucket", "_sum", "_count"].filter { name.hasSuffix($0) }.map {
                String(name.dropLast($0.count))
            }
        if let declared = family.first(where: { lines[$0] != nil }) {
            lines[declared]! += line
        } else {
            loose += line
        }
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
