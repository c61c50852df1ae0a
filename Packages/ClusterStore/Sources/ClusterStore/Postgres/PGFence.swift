/// Fencing at the store: the leader epoch a controller won (`Leadership`), checked by the database at the start
/// of each of its transactions. `corral_fence(epoch)` (schema `0001-initial`, PostgreSQL) bumps the leadership
/// row's commit count only while the row still holds that epoch, and raises SQLSTATE `CF001` otherwise, so a
/// paused old leader that wakes up has every write refused. The row lock it takes lasts to the transaction's
/// end, so a takeover (which locks the row to raise the epoch) waits for a transaction under way and every later
/// one sees the new epoch: each transaction is wholly before or wholly after the takeover.
public struct PGFence: Sendable, Hashable {
    public let epoch: Int64
    /// The SQLSTATE of a refused transaction.
    public static let refused = "CF001"

    public init(epoch: Int64) { self.epoch = epoch }

    func check(_ connection: PGConnection) throws(StoreError) {
        _ = try connection.queryOne("SELECT corral_fence(?) AS commits", [.integer(epoch)])
    }
}
