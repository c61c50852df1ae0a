import ClusterStore
import Foundation
import TestSupport
import Testing

@Suite struct ConnectionFileTests {
    @Test func fileDatabasesUseWALAndPragmasApply() throws {
        try withTemporaryDirectory { directory in
            var options = Connection.Options()
            options.synchronous = .normal
            options.busyTimeout = .milliseconds(1500)
            let connection = try Connection(path: directory + "/db.sqlite", options: options)
            #expect(try connection.queryOne("PRAGMA journal_mode")?[0] == "wal")
            #expect(try connection.queryOne("PRAGMA foreign_keys")?[0] == 1)
            #expect(try connection.queryOne("PRAGMA synchronous")?[0] == 1)  // NORMAL
            #expect(try connection.queryOne("PRAGMA busy_timeout")?[0] == 1500)
            let defaults = try Connection(path: directory + "/other.sqlite")
            #expect(try defaults.queryOne("PRAGMA synchronous")?[0] == 2)  // FULL
            #expect(try defaults.queryOne("PRAGMA busy_timeout")?[0] == 5000)
        }
    }

    /// The database and its WAL hold every job's environment: owner-only, new or old (issue 18, finding 5).
    @Test func databaseFilesAreOwnerOnly() throws {
        try withTemporaryDirectory { directory in
            func mode(_ path: String) throws -> Int {
                (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
            }
            let path = directory + "/new.sqlite"
            let connection = try Connection(path: path)
            try connection.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
            #expect(try mode(path) == 0o600)
            #expect(try mode(path + "-wal") == 0o600)
            #expect(try mode(path + "-shm") == 0o600)
            // A database left 0644 by an older version is brought to 0600 when opened.
            let old = directory + "/old.sqlite"
            #expect(FileManager.default.createFile(atPath: old, contents: nil, attributes: [.posixPermissions: 0o644]))
            #expect(try mode(old) == 0o644)
            _ = try Connection(path: old)
            #expect(try mode(old) == 0o600)
        }
    }

    @Test func garbageFileIsNotADatabase() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/garbage.sqlite"
            try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: StoreError.self) {
                try Connection(path: path)
            }
            #expect(error?.code == .notADatabase)
        }
    }

    @Test func memoryDatabaseKeepsMemoryJournal() throws {
        let connection = try Connection(path: ":memory:")
        #expect(try connection.queryOne("PRAGMA journal_mode")?[0] == "memory")
    }

    @Test func reopenedFileSeesCommittedData() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db.sqlite"
            do {
                let connection = try Connection(path: path)
                try connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
                try connection.transaction {
                    try connection.run("INSERT INTO t (name) VALUES (?)", ["committed"])
                }
                #expect(connection.lastInsertRowID == 1)
                #expect(connection.changes == 1)
            }
            let reopened = try Connection(path: path)
            #expect(try reopened.query("SELECT name FROM t").map { $0.string("name") } == ["committed"])
        }
    }

    @Test func secondConnectionSeesCommitsAndReadOnlyCannotWrite() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db.sqlite"
            let writer = try Connection(path: path)
            try writer.execute("CREATE TABLE t (v INTEGER)")
            var options = Connection.Options()
            options.readOnly = true
            let reader = try Connection(path: path, options: options)
            try writer.run("INSERT INTO t VALUES (?)", [1])
            #expect(try reader.queryOne("SELECT count(*) FROM t")?[0] == 1)
            let error = #expect(throws: StoreError.self) {
                try reader.run("INSERT INTO t VALUES (?)", [2])
            }
            #expect(error?.code.primary == .readOnly)
        }
    }

    @Test func busyWriterFailsWithBusyAfterTimeout() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db.sqlite"
            let first = try Connection(path: path)
            try first.execute("CREATE TABLE t (v INTEGER)")
            var options = Connection.Options()
            options.busyTimeout = .milliseconds(50)
            let second = try Connection(path: path, options: options)
            try first.transaction {
                try first.run("INSERT INTO t VALUES (?)", [1])
                let error = #expect(throws: StoreError.self) {
                    try second.transaction { try second.run("INSERT INTO t VALUES (?)", [2]) }
                }
                #expect(error?.code.primary == .busy)
                #expect(!second.isInTransaction)
            }
            #expect(try second.queryOne("SELECT count(*) FROM t")?[0] == 1)
        }
    }

    @Test func forEachRowStreamsAndAllowsReentrantUse() throws {
        let connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE t (v INTEGER)")
        for value in 1...5 {
            try connection.run("INSERT INTO t VALUES (?)", [SQLValue(value)])
        }
        var seen: [Int] = []
        try connection.forEachRow("SELECT v FROM t WHERE v > ? ORDER BY v", [1]) { row in
            seen.append(row.int("v") ?? -1)
            // The same SQL while the outer statement is still stepping gets its own statement.
            let inner = try connection.query("SELECT v FROM t WHERE v > ? ORDER BY v", [4])
            #expect(inner.map { $0.int("v") } == [5])
        }
        #expect(seen == [2, 3, 4, 5])

        struct Stop: Error {}
        var count = 0
        #expect(throws: Stop.self) {
            try connection.forEachRow("SELECT v FROM t") { _ in
                count += 1
                if count == 2 { throw Stop() }
            }
        }
        #expect(count == 2)
        #expect(try connection.query("SELECT v FROM t").count == 5)
    }

    @Test func queryOneReturnsNilForNoRows() throws {
        let connection = try Connection(path: ":memory:")
        #expect(try connection.queryOne("SELECT 1 WHERE 0") == nil)
        #expect(try connection.query("SELECT 1 WHERE 0").isEmpty)
    }
}
