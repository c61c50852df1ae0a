import ClusterCore
import ClusterStore
import Foundation
import TestSupport
import Testing

/// Leadership and fencing on a real PostgreSQL server (`TestPostgres`): the lease keeps others out, a takeover
/// raises the epoch, and the database refuses every transaction of a leader that was deposed.
@Suite struct LeadershipTests {
    static func settings() throws -> PGSettings {
        let server = try TestPostgres.shared()
        let settings = PGSettings(url: try server.makeDatabase(), password: server.password)
        _ = try ClusterDatabase(postgres: settings)  // migrated
        return settings
    }

    /// A store connection that writes as the leader of `epoch`.
    static func store(_ settings: PGSettings, epoch: Int64) throws -> ClusterDatabase {
        let database = try ClusterDatabase(postgres: settings)
        database.postgres?.fence = PGFence(epoch: epoch)
        return database
    }

    @Test func aLiveLeaseKeepsOthersOutAndAnExpiredOneIsTakenWithANewEpoch() throws {
        let settings = try Self.settings()
        let (a, b) = (try Leadership(settings), try Leadership(settings))
        let first = try #require(try a.tryAcquire(holder: "a", address: "http://a:8700", lease: .milliseconds(400)))
        #expect(try b.tryAcquire(holder: "b", address: "http://b:8700", lease: .seconds(5)) == nil)
        #expect(try a.renew(epoch: first, lease: .milliseconds(400)))
        let record = try b.current()
        #expect(record.epoch == first && record.holder == "a" && record.address == "http://a:8700")
        #expect(record.remainingMilliseconds > 0 && record.remainingMilliseconds <= 400)
        Thread.sleep(forTimeInterval: 0.5)
        let second = try #require(try b.tryAcquire(holder: "b", address: "http://b:8700", lease: .seconds(5)))
        #expect(second == first + 1)
        #expect(try a.renew(epoch: first, lease: .seconds(5)) == false)
        #expect(try a.current().holder == "b")
    }

    @Test func aDeposedLeadersTransactionsAreRefusedAndWriteNothing() throws {
        let settings = try Self.settings()
        let (a, b) = (try Leadership(settings), try Leadership(settings))
        let first = try #require(try a.tryAcquire(holder: "a", address: "a", lease: .milliseconds(200)))
        let old = try Self.store(settings, epoch: first)
        try old.insertJob(ClusterDatabaseTests.job("before"))
        Thread.sleep(forTimeInterval: 0.3)
        let second = try #require(try b.tryAcquire(holder: "b", address: "b", lease: .seconds(5)))
        // In a transaction, and a single statement outside one: both refused by the database.
        let refused = #expect(throws: StoreError.self) {
            try old.transaction { try old.insertJob(ClusterDatabaseTests.job("after")) }
        }
        #expect(refused?.isFenced == true)
        #expect(refused?.message.contains("superseded by epoch \(second)") == true)
        let single = #expect(throws: StoreError.self) {
            try old.saveCredential(
                Credential(hash: "h", prefix: "p", kind: .user, subject: "s", createdAt: ClusterDatabaseTests.t0)
            )
        }
        #expect(single?.isFenced == true)
        let new = try Self.store(settings, epoch: second)
        #expect(try new.loadJobs().map(\.id) == [JobID("before")])
        #expect(try new.loadCredentials().isEmpty)
        try new.insertJob(ClusterDatabaseTests.job("by-the-new-leader"))
        #expect(try new.loadJobs().count == 2)
    }

    /// The fence holds the leadership row's lock to the end of the transaction: a takeover waits for the old
    /// leader's transaction under way (here past its lock timeout), then the old leader's next one is refused.
    @Test func aTakeoverWaitsForTheTransactionUnderWay() throws {
        let settings = try Self.settings()
        let (a, b) = (try Leadership(settings), try Leadership(settings))
        let first = try #require(try a.tryAcquire(holder: "a", address: "a", lease: .milliseconds(100)))
        let old = try Self.store(settings, epoch: first)
        try old.transaction {
            try old.insertJob(ClusterDatabaseTests.job("under-way"))
            Thread.sleep(forTimeInterval: 0.2)  // the lease has run out, the transaction goes on
            let blocked = #expect(throws: StoreError.self) {
                try b.tryAcquire(holder: "b", address: "b", lease: .seconds(5))
            }
            #expect(blocked.map { ResultCode.busy ~= $0.code } == true)
        }
        let second = try #require(try b.tryAcquire(holder: "b", address: "b", lease: .seconds(5)))
        #expect(second == first + 1)
        #expect(throws: StoreError.self) { try old.insertJob(ClusterDatabaseTests.job("late")) }
        #expect(try Self.store(settings, epoch: second).loadJobs().map(\.id) == [JobID("under-way")])
    }

    @Test func aLeaderThatResignsIsFollowedAtOnce() throws {
        let settings = try Self.settings()
        let (a, b) = (try Leadership(settings), try Leadership(settings))
        let first = try #require(try a.tryAcquire(holder: "a", address: "a", lease: .seconds(60)))
        #expect(try b.tryAcquire(holder: "b", address: "b", lease: .seconds(60)) == nil)
        try a.resign(epoch: first)
        #expect(try b.tryAcquire(holder: "b", address: "b", lease: .seconds(60)) == first + 1)
        // A resign of an epoch that is no longer current changes nothing.
        try a.resign(epoch: first)
        #expect(try b.current().remainingMilliseconds > 50_000)
    }

    /// A connection the server ended is reopened for the next statement outside a transaction; the statement
    /// that met the loss is not sent again (its outcome is the caller's to judge). Inside a transaction the loss
    /// ends the transaction: nothing of it is stored.
    @Test func aLostConnectionIsReopenedOnlyOutsideATransaction() throws {
        let settings = try Self.settings()
        let database = try ClusterDatabase(postgres: settings)
        let connection = try #require(database.postgres)
        let killer = try PGConnection(settings)
        func terminate() throws {
            let pid = try #require(try connection.queryOne("SELECT pg_backend_pid() AS pid")?.int64("pid"))
            _ = try killer.queryOne("SELECT pg_terminate_backend(?)", [.integer(pid)])
        }
        try terminate()
        let lost = #expect(throws: StoreError.self) { try database.insertJob(ClusterDatabaseTests.job("lost")) }
        #expect(lost?.connectionLost == true)
        try database.insertJob(ClusterDatabaseTests.job("after"))
        #expect(connection.reconnects == 1)
        #expect(throws: StoreError.self) {
            try database.transaction {
                try database.insertJob(ClusterDatabaseTests.job("in-transaction"))
                try terminate()
                try database.insertJob(ClusterDatabaseTests.job("after-the-loss"))
            }
        }
        #expect(try database.loadJobs().map(\.id) == [JobID("after")])
    }
}

/// Jobs' logs on PostgreSQL: chunks by offset, read back from any offset, within a limit.
@Suite struct PostgresLogTests {
    @Test func chunksAreReadBackFromAnyOffset() throws {
        let settings = try LeadershipTests.settings()
        let database = try ClusterDatabase(postgres: settings)
        #expect(try database.logSize("j.1") == 0 && database.readLog("j.1", from: 0, limit: 10).isEmpty)
        try database.appendLog("j.1", at: 0, Array("hello ".utf8))
        try database.appendLog("j.1", at: 6, Array("world\n".utf8))
        try database.appendLog("j.1", at: 12, [0, 255, 10])
        try database.appendLog("other.1", at: 0, Array("not mine".utf8))
        #expect(try database.logSize("j.1") == 15)
        #expect(try database.readLog("j.1", from: 0, limit: 100) == Array("hello world\n".utf8) + [0, 255, 10])
        #expect(try database.readLog("j.1", from: 3, limit: 5) == Array("lo wo".utf8))
        #expect(try database.readLog("j.1", from: 13, limit: 100) == [255, 10])
        #expect(try database.readLog("j.1", from: 15, limit: 100).isEmpty)
        // The same offset twice is refused (the controller appends only beyond what it holds).
        #expect(throws: StoreError.self) { try database.appendLog("j.1", at: 12, [1]) }
        #expect(try database.logSize("j.1") == 15)
    }
}
