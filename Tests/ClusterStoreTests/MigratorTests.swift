import ClusterStore
import TestSupport
import Testing

@Suite struct MigratorTests {
    static let v1 = Migration(id: "001-jobs", sql: "CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL);")
    static let v2 = Migration(
        id: "002-nodes",
        sql: """
            CREATE TABLE nodes (id INTEGER PRIMARY KEY, host TEXT NOT NULL UNIQUE);
            ALTER TABLE jobs ADD COLUMN node INTEGER REFERENCES nodes(id);
            """
    )

    static func tables(_ connection: Connection) throws -> Set<String> {
        Set(
            try connection.query("SELECT name FROM sqlite_schema WHERE type = 'table'").compactMap { $0.string("name") }
        )
    }

    @Test func appliesOnceRecordsAndRerunIsANoOp() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db.sqlite"
            let connection = try Connection(path: path)
            #expect(try Migrator.appliedMigrations(connection).isEmpty)
            #expect(try Migrator.migrate(connection, [Self.v1]) == ["001-jobs"])
            #expect(try Migrator.migrate(connection, [Self.v1, Self.v2]) == ["002-nodes"])
            #expect(try Migrator.migrate(connection, [Self.v1, Self.v2]).isEmpty)
            #expect(try Self.tables(connection).isSuperset(of: ["jobs", "nodes", "schema_migrations"]))
            let recorded = try connection.query("SELECT id, applied_at FROM schema_migrations ORDER BY rowid")
            #expect(recorded.map { $0.string("id") } == ["001-jobs", "002-nodes"])
            #expect(recorded.allSatisfy { ($0.int64("applied_at") ?? 0) > 1_600_000_000 })

            let reopened = try Connection(path: path)
            #expect(try Migrator.migrate(reopened, [Self.v1, Self.v2]).isEmpty)
            #expect(try Migrator.appliedMigrations(reopened) == ["001-jobs", "002-nodes"])
        }
    }

    @Test func failingMigrationAppliesNoneOfTheBatch() throws {
        let connection = try Connection(path: ":memory:")
        let broken = Migration(id: "003-broken", sql: "CREATE TABLE fine (a); CREATE TABLEZ nope (a);")
        let error = #expect(throws: StoreError.self) {
            try Migrator.migrate(connection, [Self.v1, Self.v2, broken])
        }
        #expect(error?.message.contains("003-broken") == true)
        #expect(error?.sql == broken.sql)
        #expect(try Self.tables(connection).isDisjoint(with: ["jobs", "nodes", "fine"]))
        #expect(try Migrator.appliedMigrations(connection).isEmpty)
        #expect(!connection.isInTransaction)
        // The fixed list then applies cleanly.
        #expect(try Migrator.migrate(connection, [Self.v1, Self.v2]) == ["001-jobs", "002-nodes"])
    }

    @Test func unknownAppliedMigrationMeansTheDatabaseIsNewer() throws {
        let connection = try Connection(path: ":memory:")
        _ = try Migrator.migrate(connection, [Self.v1, Self.v2])
        let error = #expect(throws: StoreError.self) {
            try Migrator.migrate(connection, [Self.v1])
        }
        #expect(error?.message.contains("002-nodes") == true)
        #expect(error?.message.contains("newer") == true)
    }

    @Test func duplicateIDsAreRejected() throws {
        let connection = try Connection(path: ":memory:")
        let error = #expect(throws: StoreError.self) {
            try Migrator.migrate(connection, [Self.v1, Self.v1])
        }
        #expect(error?.code == .misuse)
        #expect(try Self.tables(connection).isEmpty)
    }

    @Test func migrationsRunInOneTransaction() throws {
        let connection = try Connection(path: ":memory:")
        var statements: [String] = []
        connection.setTrace { statements.append($0) }
        _ = try Migrator.migrate(connection, [Self.v1, Self.v2])
        #expect(statements.first == "BEGIN IMMEDIATE")
        #expect(statements.last == "COMMIT")
        #expect(statements.filter { $0.hasPrefix("BEGIN") }.count == 1)
    }
}
