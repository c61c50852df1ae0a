/// `nvidia-smi topo -m`: how each pair of GPUs is connected. Only GPU rows and GPU columns are kept (NICs,
/// CPU and NUMA affinity are dropped), as the codes nvidia-smi prints: `X` (itself), `NV<n>` (n bonded
/// NVLinks), `PIX`, `PXB`, `PHB`, `NODE`, `SYS`.
public enum GPUTopology {
    public static let arguments = ["topo", "-m"]

    /// The matrix, `links[a][b]` for GPUs `a` and `b` by index; nil when the output holds no GPU matrix (one
    /// GPU still gives `[["X"]]`). Terminal escapes (nvidia-smi underlines the header even into a pipe),
    /// tabs or runs of spaces, CRLF and the legend below the matrix are all tolerated.
    public static func parse(_ output: String) -> [[String]]? {
        var header: [String]?
        var rows: [Int: [String]] = [:]
        for raw in output.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = withoutEscapes(String(raw))
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
            guard let first = fields.first else { continue }
            if header == nil {
                if first == "GPU0" && line.first?.isWhitespace == true { header = fields }
                continue
            }
            guard let index = gpuIndex(first) else {
                if !rows.isEmpty { break }  // the matrix is over (NIC rows, the legend)
                continue
            }
            rows[index] = Array(fields.dropFirst())
        }
        guard let header else { return nil }
        let columns = header.prefix { gpuIndex($0) != nil }.count
        guard columns > 0, rows.count == columns, (0..<columns).allSatisfy({ rows[$0] != nil }) else { return nil }
        var links: [[String]] = []
        for index in 0..<columns {
            let row = rows[index]!
            guard row.count >= columns else { return nil }
            let cells = Array(row.prefix(columns))
            guard cells[index] == "X", cells.allSatisfy(isLink) else { return nil }
            links.append(cells)
        }
        return links
    }

    static func gpuIndex(_ field: String) -> Int? {
        guard field.hasPrefix("GPU"), let index = Int(field.dropFirst(3)), index >= 0, index < 1024 else { return nil }
        return index
    }

    static func isLink(_ code: String) -> Bool {
        if ["X", "PIX", "PXB", "PHB", "NODE", "SYS", "SOC"].contains(code) { return true }
        return code.hasPrefix("NV") && UInt(code.dropFirst(2)) != nil
    }

    /// Drops ANSI escape sequences (ESC [ ... letter).
    static func withoutEscapes(_ line: String) -> String {
        var out = ""
        var escaping = false
        for character in line {
            if escaping {
                if character.isLetter { escaping = false }
            } else if character == "\u{1B}" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
