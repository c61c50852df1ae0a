/// Applies an ordered list of migrations, recording each applied id in `schema_migrations`.
///
/// All pending migrations run in one `BEGIN IMMEDIATE` transaction, so either the whole batch lands or none of it,
/// and two processes migrating the same file are serialized. A database that has applied an id this binary does
/// not know (written by a newer version) is refused rather than silently used.
public enum Migrator {
    public static let tableName = "schema_migrations"

    /// Applies the pending migrations in order and returns their ids (empty when the database is up to date).
    public static func migrate(_ connection: Connection, _ migrations: [Migration]) throws(StoreError) -> [String] {
        let known = try checkUnique(migrations)
        return try connection.inTransaction(
            .immediate,
            wrap: { $0 },
            body: { () throws(StoreError) -> [String] in try applyPending(connection, migrations, known: known) }
        )
    }

    /// The ids recorded in `schema_migrations`, in the order they were applied; empty when the table is missing.
    public static func appliedMigrations(_ connection: Connection) throws(StoreError) -> [String] {
        let exists = try connection.queryOne(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?",
            [.text(tableName)]
        )
        guard exists != nil else { return [] }
        return try appliedIDs(connection)
    }

    /// Runs inside the migration transaction.
    private static func applyPending(
        _ connection: Connection,
        _ migrations: [Migration],
        known: Set<String>
    ) throws(StoreError) -> [String] {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                id TEXT PRIMARY KEY NOT NULL,
                applied_at INTEGER NOT NULL
            )
            """
        )
        let applied = try appliedIDs(connection)
        let unknown = applied.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw StoreError(
                code: .error,
                message: """
                    the database has applied migrations this program does not know: \
                    \(unknown.joined(separator: ", ")) (it was written by a newer version; upgrade this program)
                    """
            )
        }
        let appliedSet = Set(applied)
        var appliedNow: [String] = []
        for migration in migrations where !appliedSet.contains(migration.id) {
            do throws(StoreError) {
                try connection.execute(migration.sql)
            } catch {
                throw StoreError(
                    code: error.code,
                    message: "migration '\(migration.id)' failed: \(error.message)",
                    sql: error.sql
                )
            }
            // applied_at: Unix time in seconds.
            try connection.run(
                "INSERT INTO schema_migrations (id, applied_at) VALUES (?, CAST(strftime('%s', 'now') AS INTEGER))",
                [.text(migration.id)]
            )
            appliedNow.append(migration.id)
        }
        return appliedNow
    }

    private static func appliedIDs(_ connection: Connection) throws(StoreError) -> [String] {
        try connection.query("SELECT id FROM schema_migrations ORDER BY rowid").compactMap { $0.string("id") }
    }

    private static func checkUnique(_ migrations: [Migration]) throws(StoreError) -> Set<String> {
        var ids = Set<String>()
        for migration in migrations where !ids.insert(migration.id).inserted {
            throw StoreError(code: .misuse, message: "duplicate migration id '\(migration.id)'")
        }
        return ids
    }
}
