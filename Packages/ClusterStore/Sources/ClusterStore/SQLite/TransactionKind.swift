/// How a top-level transaction takes its locks (`BEGIN DEFERRED` / `IMMEDIATE` / `EXCLUSIVE`).
///
/// Writers should use `.immediate` (the default): it takes the write lock up front, so a busy database fails at
/// `BEGIN` (after the busy timeout) instead of with an unretryable `SQLITE_BUSY` in the middle of the transaction.
public enum TransactionKind: Sendable {
    case deferred
    case immediate
    case exclusive
    /// Reads only, all of one state of the database, whatever commits meanwhile: a deferred transaction on SQLite
    /// (WAL keeps a reader's snapshot from its first read), `REPEATABLE READ READ ONLY` on PostgreSQL.
    case snapshot

    var beginSQL: String {
        switch self {
        case .deferred: "BEGIN DEFERRED"
        case .immediate: "BEGIN IMMEDIATE"
        case .exclusive: "BEGIN EXCLUSIVE"
        case .snapshot: "BEGIN DEFERRED"
        }
    }
}
