/// How a top-level transaction takes its locks (`BEGIN DEFERRED` / `IMMEDIATE` / `EXCLUSIVE`).
///
/// Writers should use `.immediate` (the default): it takes the write lock up front, so a busy database fails at
/// `BEGIN` (after the busy timeout) instead of with an unretryable `SQLITE_BUSY` in the middle of the transaction.
public enum TransactionKind: Sendable {
    case deferred
    case immediate
    case exclusive

    var beginSQL: String {
        switch self {
        case .deferred: "BEGIN DEFERRED"
        case .immediate: "BEGIN IMMEDIATE"
        case .exclusive: "BEGIN EXCLUSIVE"
        }
    }
}
