import ClusterStore
import TestSupport

/// Where a test's cluster database lives, on either engine: a file in a fresh directory (SQLite) or a fresh
/// database on the test process's real PostgreSQL server (`TestPostgres`). `open()` connects anew each time, so
/// a test that writes, lets go and opens again reads what was stored, not what a connection kept.
struct StoreTarget {
    let engine: SQLEngine
    let path: String
    let postgres: PGSettings?

    func open() throws -> ClusterDatabase {
        if let postgres { return try ClusterDatabase(postgres: postgres) }
        return try ClusterDatabase(path: path)
    }

    /// A new database on `engine` (SQLite: in `directory`).
    static func make(_ engine: SQLEngine, in directory: String) throws -> StoreTarget {
        switch engine {
        case .sqlite:
            return StoreTarget(engine: engine, path: directory + "/cluster.sqlite", postgres: nil)
        case .postgres:
            let server = try TestPostgres.shared()
            let settings = PGSettings(url: try server.makeDatabase(), password: server.password)
            return StoreTarget(engine: engine, path: settings.url, postgres: settings)
        }
    }
}

/// Runs `body` with a new database on `engine`.
func withStore(_ engine: SQLEngine, _ body: (StoreTarget) throws -> Void) throws {
    try withTemporaryDirectory { directory in try body(try StoreTarget.make(engine, in: directory)) }
}

/// A new database on `engine`, open (SQLite: in memory).
func freshDatabase(_ engine: SQLEngine) throws -> ClusterDatabase {
    engine == .sqlite ? try ClusterDatabase(path: ":memory:") : try StoreTarget.make(engine, in: "").open()
}
