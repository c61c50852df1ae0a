import ClusterStore
import TestSupport
import Testing

@Suite struct SQLValueRoundTripTests {
    static let values: [SQLValue] = [
        .null,
        .integer(0),
        .integer(-1),
        .integer(Int64.min),
        .integer(Int64.max),
        .real(0.5),
        .real(-1e300),
        .real(Double.greatestFiniteMagnitude),
        .text(""),
        .text("plain ascii"),
        .text("héllo wörld, 日本語, emoji 🚀👩‍👩‍👧, rtl עברית"),
        .text("nul\u{0}inside\u{0}"),
        .blob([]),
        .blob([0, 0, 0]),
        .blob([0xFF, 0x00, 0x7F, 0x80, 0x00, 0x01]),
        .blob(Array(0...255)),
    ]

    @Test(arguments: ["memory", "file"], values)
    func roundTrip(storage: String, value: SQLValue) throws {
        try withTemporaryDirectory { directory in
            let connection = try Connection(path: storage == "memory" ? ":memory:" : directory + "/db.sqlite")
            try connection.execute("CREATE TABLE t (v)")
            try connection.run("INSERT INTO t (v) VALUES (?)", [value])
            let row = try #require(try connection.queryOne("SELECT v, typeof(v) AS type FROM t"))
            #expect(row["v"] == value)
            #expect(row[0] == value)
            let expectedType =
                switch value {
                case .null: "null"
                case .integer: "integer"
                case .real: "real"
                case .text: "text"
                case .blob: "blob"
                }
            #expect(row.string("type") == expectedType)
        }
    }

    @Test func bindsEveryValueInOneStatementAndReadsTypedAccessors() throws {
        let connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, f INTEGER, n TEXT)")
        try connection.run(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
            [SQLValue(42), 2.5, "text", .blob([1, 2]), true, SQLValue(nil as String?)]
        )
        let row = try #require(try connection.queryOne("SELECT * FROM t"))
        #expect(row.columnNames == ["i", "r", "s", "b", "f", "n"])
        #expect(row.int("i") == 42)
        #expect(row.int64("i") == 42)
        #expect(row.double("i") == 42)
        #expect(row.double("r") == 2.5)
        #expect(row.int("r") == nil)
        #expect(row.string("s") == "text")
        #expect(row.blob("b") == [1, 2])
        #expect(row.bool("f") == true)
        #expect(row["n"] == .null)
        #expect(row.string("n") == nil)
        #expect(row["no_such_column"] == .null)
        #expect(!row.hasColumn("no_such_column"))
    }

    @Test func convenienceInitializers() {
        #expect(SQLValue(7) == .integer(7))
        #expect(SQLValue(Int64?.none) == .null)
        #expect(SQLValue(Int64?.some(3)) == .integer(3))
        #expect(SQLValue(String?.none) == .null)
        #expect(SQLValue("x" as String?) == .text("x"))
        #expect(SQLValue(true) == .integer(1))
        #expect(SQLValue(false) == .integer(0))
        let literals: [SQLValue] = [nil, 1, 1.5, "s", true]
        #expect(literals == [.null, .integer(1), .real(1.5), .text("s"), .integer(1)])
    }

    @Test func hostileTextIsStoredLiterally() throws {
        let connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE users (name TEXT)")
        let hostile = [
            "Robert'); DROP TABLE users;--",
            "' OR '1'='1",
            "\"; DELETE FROM users; --",
            "?; ?2 :name @x $y",
            "x'||(SELECT sqlite_version())||'",
        ]
        for name in hostile {
            try connection.run("INSERT INTO users (name) VALUES (?)", [.text(name)])
        }
        let names = try connection.query("SELECT name FROM users ORDER BY rowid").map { $0.string("name") }
        #expect(names == hostile)
        let match = try connection.query("SELECT name FROM users WHERE name = ?", ["' OR '1'='1"])
        #expect(match.count == 1)
        #expect(try connection.queryOne("SELECT count(*) FROM sqlite_schema WHERE name = 'users'")?[0] == 1)
    }
}

@Suite struct ConnectionErrorTests {
    @Test func bindingCountMismatchIsAClearError() throws {
        let connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE t (a, b)")
        let tooFew = #expect(throws: StoreError.self) {
            try connection.run("INSERT INTO t VALUES (?, ?)", [1])
        }
        #expect(tooFew?.code == .range)
        #expect(tooFew?.message.contains("2 parameter(s) but 1 value(s)") == true)
        #expect(tooFew?.sql == "INSERT INTO t VALUES (?, ?)")
        let tooMany = #expect(throws: StoreError.self) {
            try connection.query("SELECT ?", [1, 2])
        }
        #expect(tooMany?.message.contains("1 parameter(s) but 2 value(s)") == true)
        // The failed attempts leave the cached statement usable.
        try connection.run("INSERT INTO t VALUES (?, ?)", [1, 2])
        #expect(try connection.queryOne("SELECT count(*) FROM t")?[0] == 1)
    }

    @Test func syntaxErrorCarriesMessageAndSQL() throws {
        let connection = try Connection(path: ":memory:")
        let error = #expect(throws: StoreError.self) {
            try connection.query("SELEC 1")
        }
        #expect(error?.code == .error)
        #expect(error?.message.contains("syntax error") == true)
        #expect(error?.sql == "SELEC 1")
        #expect(error?.description.contains("SELEC 1") == true)
        let executeError = #expect(throws: StoreError.self) {
            try connection.execute("CREATE TABLE ok (a); CREATE TABLEX bad (a)")
        }
        #expect(executeError?.sql == "CREATE TABLE ok (a); CREATE TABLEX bad (a)")
    }

    @Test func constraintViolationMatchesPrimaryAndExtendedCodes() throws {
        let connection = try Connection(path: ":memory:")
        try connection.execute(
            """
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent(id), name TEXT UNIQUE);
            INSERT INTO parent (id) VALUES (1);
            """
        )
        try connection.run("INSERT INTO child (parent, name) VALUES (?, ?)", [1, "a"])
        let unique = #expect(throws: StoreError.self) {
            try connection.run("INSERT INTO child (parent, name) VALUES (?, ?)", [1, "a"])
        }
        let code = try #require(unique?.code)
        #expect(ResultCode.constraint ~= code)
        #expect(ResultCode.constraintUnique ~= code)
        #expect(!(ResultCode.constraintForeignKey ~= code))
        #expect(code.primary == .constraint)
        switch code {
        case .constraintForeignKey: Issue.record("matched the wrong extended code")
        case .constraint: break
        default: Issue.record("did not match .constraint: \(code)")
        }
        // Foreign keys are on.
        let foreignKey = #expect(throws: StoreError.self) {
            try connection.run("INSERT INTO child (parent, name) VALUES (?, ?)", [99, "b"])
        }
        #expect(foreignKey?.code == .constraintForeignKey)
        do {
            try connection.run("INSERT INTO child (parent, name) VALUES (?, ?)", [nil, "c"])
            Issue.record("NOT NULL was not enforced")
        } catch ResultCode.constraintNotNull {
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func runRejectsSeveralStatements() throws {
        let connection = try Connection(path: ":memory:")
        let error = #expect(throws: StoreError.self) {
            try connection.run("CREATE TABLE a (x); CREATE TABLE b (x)")
        }
        #expect(error?.code == .misuse)
        try connection.run("CREATE TABLE a (x);  ")
    }

    @Test func doubleQuotedStringsAreIdentifiersOnly() throws {
        let connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE t (a)")
        #expect(throws: StoreError.self) {
            try connection.query("SELECT * FROM t WHERE a = \"not a column\"")
        }
    }

    @Test func openFailureIsAStoreError() {
        let error = #expect(throws: StoreError.self) {
            try Connection(path: "/nonexistent-directory/for/sure/db.sqlite")
        }
        #expect(error?.code.primary == .cantOpen)
        #expect(error?.message.contains("/nonexistent-directory/for/sure/db.sqlite") == true)
    }
}
