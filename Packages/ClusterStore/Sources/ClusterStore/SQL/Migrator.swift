/// Applies an ordered list of migrations, recording each applied id in `schema_migrations`.
///
/// All pending migrations run in one transaction, so either the whole batch lands or none of it, and two
/// processes migrating the same database are serialized (SQLite: `BEGIN IMMEDIATE`; PostgreSQL, whose DDL is
/// transactional too: an advisory lock held to the transaction's end). A database that has applied an id this binary does
/// not know (written by a newer version) is refused rather than silently used.
public enum Migrator {
    public static let tableName = "schema_migrations"

    /// Applies the pending migrations in order and returns their ids (empty when the database is up to date).
    public static func migrate(
        _ connection: any SQLConnection,
        _ migrations: [Migration]
    ) throws(StoreError) -> [String] {
        let known = try checkUnique(migrations)
        return try connection.inTransaction(
            .immediate,
            wrap: { $0 },
            body: { () throws(StoreError) -> [String] in try applyPending(connection, migrations, known: known) }
        )
    }

    /// The ids recorded in `schema_migrations`, in the order they were applied; empty when the table is missing.
    public static func appliedMigrations(_ connection: any SQLConnection) throws(StoreError) -> [String] {
        let exists = try connection.queryOne(
            connection.engine == .sqlite
                ? "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?"
                : "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
            [.text(tableName)]
        )
        guard exists != nil else { return [] }
        return try appliedIDs(connection)
    }

    /// Runs inside the migration transaction.
    private static func applyPending(
        _ connection: any SQLConnection,
        _ migrations: [Migration],
        known: Set<String>
    ) throws(StoreError) -> [String] {
        if connection.engine == .postgres {
            // Any constant of ours: two controllers starting at once migrate one after the other.
            _ = try connection.queryOne("SELECT pg_advisory_xact_lock(?)", [.integer(0x636f_7272_616c)])
        }
        try connection.execute(
            connection.engine == .sqlite
                ? """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    id TEXT PRIMARY KEY NOT NULL,
                    applied_at INTEGER NOT NULL
                )
                """
                : """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    id TEXT PRIMARY KEY NOT NULL,
                    applied_at BIGINT NOT NULL,
                    seq BIGINT GENERATED ALWAYS AS IDENTITY
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
                connection.engine == .sqlite
                    ? "INSERT INTO schema_migrations (id, applied_at) VALUES (?, CAST(strftime('%s', 'now') AS INTEGER))"
                    : "INSERT INTO schema_migrations (id, applied_at) VALUES (?, CAST(extract(epoch FROM now()) AS BIGINT))",
                [.text(migration.id)]
            )
            appliedNow.append(migration.id)
        }
        return appliedNow
    }

    private static func appliedIDs(_ connection: any SQLConnection) throws(StoreError) -> [String] {
        let order = connection.engine == .sqlite ? "rowid" : "seq"
        return try connection.query("SELECT id FROM schema_migrations ORDER BY \(order)").compactMap { $0.string("id") }
    }

    private static func checkUnique(_ migrations: [Migration]) throws(StoreError) -> Set<String> {
        var ids = Set<String>()
        for migration in migrations where !ids.insert(migration.id).inserted {
            throw StoreError(code: .misuse, message: "duplicate migration id '\(migration.id)'")
        }
        return ids
    }
}
