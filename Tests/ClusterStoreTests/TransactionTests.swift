import ClusterStore
import Testing

@Suite struct TransactionTests {
    struct Boom: Error {}

    static func makeConnection() throws -> Connection {
        let connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE t (v TEXT)")
        return connection
    }

    static func values(_ connection: Connection) throws -> [String] {
        try connection.query("SELECT v FROM t ORDER BY rowid").compactMap { $0.string("v") }
    }

    @Test(arguments: [TransactionKind.deferred, .immediate, .exclusive])
    func commitReturnsTheBodysValue(kind: TransactionKind) throws {
        let connection = try Self.makeConnection()
        var statements: [String] = []
        connection.setTrace { statements.append($0) }
        let result = try connection.transaction(kind) {
            #expect(connection.isInTransaction)
            try connection.run("INSERT INTO t VALUES (?)", ["a"])
            return 42
        }
        #expect(result == 42)
        #expect(!connection.isInTransaction)
        #expect(try Self.values(connection) == ["a"])
        let begin =
            switch kind {
            case .deferred: "BEGIN DEFERRED"
            case .immediate: "BEGIN IMMEDIATE"
            case .exclusive: "BEGIN EXCLUSIVE"
            case .snapshot: "BEGIN DEFERRED"
            }
        #expect(statements.prefix(3) == [begin, "INSERT INTO t VALUES (?)", "COMMIT"])
    }

    @Test func bodyErrorRollsBackAndIsRethrown() throws {
        let connection = try Self.makeConnection()
        #expect(throws: Boom.self) {
            try connection.transaction {
                try connection.run("INSERT INTO t VALUES (?)", ["lost"])
                throw Boom()
            }
        }
        #expect(!connection.isInTransaction)
        #expect(try Self.values(connection).isEmpty)
    }

    @Test func storeErrorInBodyRollsBackEverything() throws {
        let connection = try Self.makeConnection()
        try connection.execute("CREATE UNIQUE INDEX t_v ON t (v)")
        let error = #expect(throws: StoreError.self) {
            try connection.transaction {
                try connection.run("INSERT INTO t VALUES (?)", ["x"])
                try connection.run("INSERT INTO t VALUES (?)", ["x"])
            }
        }
        #expect(error?.code == .constraintUnique)
        #expect(try Self.values(connection).isEmpty)
    }

    @Test func nestedFailureRollsBackOnlyTheSavepoint() throws {
        let connection = try Self.makeConnection()
        var statements: [String] = []
        connection.setTrace { statements.append($0) }
        try connection.transaction {
            try connection.run("INSERT INTO t VALUES (?)", ["outer"])
            #expect(throws: Boom.self) {
                try connection.transaction {
                    try connection.run("INSERT INTO t VALUES (?)", ["inner"])
                    throw Boom()
                }
            }
            try connection.transaction {
                try connection.run("INSERT INTO t VALUES (?)", ["second inner"])
            }
            #expect(connection.isInTransaction)
        }
        #expect(statements.contains("SAVEPOINT corral_savepoint_1"))
        #expect(statements.contains("ROLLBACK TO corral_savepoint_1"))
        #expect(statements.last == "COMMIT")
        #expect(try Self.values(connection) == ["outer", "second inner"])
    }

    @Test func outerFailureRollsBackReleasedSavepoints() throws {
        let connection = try Self.makeConnection()
        #expect(throws: Boom.self) {
            try connection.transaction {
                try connection.transaction {
                    try connection.transaction {
                        try connection.run("INSERT INTO t VALUES (?)", ["deep"])
                    }
                }
                throw Boom()
            }
        }
        #expect(try Self.values(connection).isEmpty)
        #expect(!connection.isInTransaction)
    }

    @Test func failedCommitRollsBack() throws {
        let connection = try Connection(path: ":memory:")
        try connection.execute(
            """
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
            """
        )
        let error = #expect(throws: StoreError.self) {
            try connection.transaction {
                try connection.run("INSERT INTO child VALUES (?)", [7])
            }
        }
        #expect(error?.code.primary == .constraint)
        #expect(error?.sql == "COMMIT")
        #expect(!connection.isInTransaction)
        #expect(try connection.queryOne("SELECT count(*) FROM child")?[0] == 0)
    }
}
