extension StoreError {
    /// A PostgreSQL error, its SQLSTATE class mapped to the SQLite family callers already match on.
    init(postgres sqlState: String?, message: String, sql: String, connectionLost: Bool, duringCommit: Bool) {
        self.init(code: Self.code(sqlState, connectionLost: connectionLost), message: message, sql: sql)
        self.sqlState = sqlState
        self.connectionLost = connectionLost
        outcomeUnknown = connectionLost && duringCommit
    }

    static func code(_ sqlState: String?, connectionLost: Bool) -> ResultCode {
        guard let sqlState else { return connectionLost ? .ioError : .error }
        switch sqlState {
        case "23505": return .constraintUnique
        case "23503": return .constraintForeignKey
        case "23502": return .constraintNotNull
        case "23514": return .constraintCheck
        case "53100": return .full
        case "40001", "40P01", "55P03", "57014": return .busy
        case "25P03": return .abort  // idle_in_transaction_session_timeout ended the session
        case PGFence.refused: return .abort
        default:
            switch sqlState.prefix(2) {
            case "23": return .constraint
            case "08", "57": return .ioError
            case "42": return .error
            case "53": return .noMemory
            default: return .error
            }
        }
    }

    /// Whether this error says a newer leader holds the cluster (`PGFence`).
    public var isFenced: Bool { sqlState == PGFence.refused }
}
