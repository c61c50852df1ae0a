import Testing

@testable import ClusterStore

@Suite struct StatementCacheTests {
    @Test func repeatedSQLIsPreparedOnce() throws {
        let connection = try Connection(path: ":memory:")
        try connection.execute("CREATE TABLE t (v INTEGER)")
        let before = connection.cachePrepareCount
        var traced: [String] = []
        connection.setTrace { traced.append($0) }
        for value in 0..<100 {
            try connection.run("INSERT INTO t VALUES (?)", [SQLValue(value)])
        }
        #expect(connection.cachePrepareCount == before + 1)
        #expect(traced.count == 100)
        #expect(Set(traced) == ["INSERT INTO t VALUES (?)"])
        #expect(try connection.queryOne("SELECT sum(v) FROM t")?[0] == SQLValue(99 * 100 / 2))
        let countAfterQuery = connection.cachePrepareCount
        _ = try connection.queryOne("SELECT sum(v) FROM t")
        #expect(connection.cachePrepareCount == countAfterQuery)
    }

    @Test func bindingsDoNotLeakBetweenUses() throws {
        let connection = try Connection(path: ":memory:")
        #expect(try connection.queryOne("SELECT ?", ["first"])?[0] == "first")
        #expect(try connection.queryOne("SELECT ?", [.null])?[0] == .null)
        #expect(try connection.queryOne("SELECT ?", [.blob([1])])?[0] == .blob([1]))
    }

    @Test func clearingTheCacheReprepares() throws {
        let connection = try Connection(path: ":memory:")
        _ = try connection.query("SELECT 1")
        #expect(connection.statementCacheCount >= 1)
        connection.clearStatementCache()
        #expect(connection.statementCacheCount == 0)
        let before = connection.cachePrepareCount
        _ = try connection.query("SELECT 1")
        #expect(connection.cachePrepareCount == before + 1)
    }

    @Test func traceCanBeRemoved() throws {
        let connection = try Connection(path: ":memory:")
        var traced: [String] = []
        connection.setTrace { traced.append($0) }
        try connection.execute("CREATE TABLE a (x); CREATE TABLE b (x)")
        connection.setTrace(nil)
        try connection.execute("CREATE TABLE c (x)")
        #expect(traced == ["CREATE TABLE a (x);", "CREATE TABLE b (x)"])
    }
}
