import ClusterCore

/// Who leads the controllers that share one PostgreSQL database: the one row of `corral_leader`, a lease timed
/// by the database's clock (no controller's clock counts), and an epoch raised at every takeover, which fences
/// the old leader's writes (`PGFence`).
///
/// A candidate takes the row only once its lease has run out, and gets a new epoch; the leader renews it by its
/// epoch alone, so a leader cut off from the database for longer than its lease keeps its place when it comes
/// back, unless another took over meanwhile. Its own connection, apart from the store's: a renewal never waits
/// behind a long read.
public final class Leadership {
    /// What the row says now, with the time left on its lease by the database's clock.
    public struct Record: Sendable, Equatable {
        public var epoch: Int64
        public var holder: String?
        public var address: String?
        /// Milliseconds until the lease runs out (negative: it has).
        public var remainingMilliseconds: Int64
        /// Transactions the leaders committed through the fence, all epochs together.
        public var commits: Int64
    }

    let connection: PGConnection

    public init(_ settings: PGSettings) throws(StoreError) {
        var settings = settings
        settings.applicationName += "-leadership"
        // A takeover waits for the old leader's transaction under way: not for ever (the server also ends a
        // session idle in a transaction, `PGSettings.idleInTransactionTimeout`).
        settings.lockTimeout = .seconds(3)
        connection = try PGConnection(settings)
        // The row lives in the cluster's schema: a first controller on an empty database makes it.
        _ = try Migrator.migrate(connection, PostgresSchema.migrations)
    }

    /// Takes the lead when the lease has run out; the new epoch, or nil while another holds a live lease.
    public func tryAcquire(holder: String, address: String, lease: Duration) throws(StoreError) -> Int64? {
        try connection.queryOne(
            """
            UPDATE corral_leader SET epoch = epoch + 1, holder = ?, address = ?,
                expires_at = clock_timestamp() + CAST(? AS BIGINT) * interval '1 millisecond'
            WHERE id = 1 AND expires_at < clock_timestamp() RETURNING epoch
            """,
            [.text(holder), .text(address), .integer(lease.milliseconds)]
        )?.int64("epoch")
    }

    /// Extends the lease of `epoch`; false once another leader has taken over.
    public func renew(epoch: Int64, lease: Duration) throws(StoreError) -> Bool {
        try connection.queryOne(
            """
            UPDATE corral_leader SET expires_at = clock_timestamp() + CAST(? AS BIGINT) * interval '1 millisecond'
            WHERE id = 1 AND epoch = ? RETURNING epoch
            """,
            [.integer(lease.milliseconds), .integer(epoch)]
        ) != nil
    }

    /// Ends the lease of `epoch` now (a leader that stops): another may take over at once.
    public func resign(epoch: Int64) throws(StoreError) {
        try connection.run(
            "UPDATE corral_leader SET expires_at = to_timestamp(0) WHERE id = 1 AND epoch = ?",
            [.integer(epoch)]
        )
    }

    public func current() throws(StoreError) -> Record {
        guard
            let row = try connection.queryOne(
                """
                SELECT epoch, holder, address, commits,
                    CAST(GREATEST(LEAST(extract(epoch FROM expires_at - clock_timestamp()) * 1000, 1e15), -1e15)
                        AS BIGINT) AS remaining
                FROM corral_leader WHERE id = 1
                """
            )
        else { throw StoreError(code: .notFound, message: "the leadership row is missing (corral_leader)") }
        return Record(
            epoch: row.int64("epoch") ?? 0,
            holder: row.string("holder"),
            address: row.string("address"),
            remainingMilliseconds: row.int64("remaining") ?? 0,
            commits: row.int64("commits") ?? 0
        )
    }
}

@available(*, unavailable)
extension Leadership: Sendable {}
