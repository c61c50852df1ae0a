/// The few places the cluster's statements differ between SQLite and PostgreSQL.
struct SQLDialect {
    let engine: SQLEngine

    /// The column that orders jobs as they were stored: SQLite's rowid, PostgreSQL's `jobs.seq`.
    var order: String { engine == .sqlite ? "rowid" : "seq" }

    /// A condition that `column` starts with the bound `prefixPattern` (SQLite's GLOB and PostgreSQL's LIKE with
    /// `text_pattern_ops` both use the id index as a range).
    func startsWith(_ column: String) -> String { engine == .sqlite ? "\(column) GLOB ?" : "\(column) LIKE ?" }

    func prefixPattern(_ prefix: String) -> SQLValue {
        guard engine == .postgres else { return .text(prefix + "*") }
        var escaped = ""
        for character in prefix {
            if "\\%_".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return .text(escaped + "%")
    }

    /// The column, kept from choosing an index where the engine would pick a worse one (SQLite's unary plus).
    func unindexed(_ column: String) -> String { engine == .sqlite ? "+" + column : column }
}
