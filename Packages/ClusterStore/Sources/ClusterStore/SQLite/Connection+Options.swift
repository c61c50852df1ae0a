extension Connection {
    /// How a connection is opened and configured.
    public struct Options: Sendable {
        /// Open with `SQLITE_OPEN_READONLY`; the journal mode is left as it is.
        public var readOnly = false
        /// `PRAGMA synchronous`. `.full` syncs at every commit; `.normal` is safe from corruption in WAL mode but
        /// may lose the last commits on power loss.
        public var synchronous: Synchronous = .full
        /// How long a statement waits for another connection's lock before failing with `ResultCode.busy`.
        public var busyTimeout: Duration = .seconds(5)

        public init() {}

        var busyTimeoutMilliseconds: Int32 {
            let (seconds, attoseconds) = busyTimeout.components
            guard seconds >= 0 else { return 0 }
            let milliseconds = seconds.multipliedReportingOverflow(by: 1000)
            guard !milliseconds.overflow else { return Int32.max }
            let total = milliseconds.partialValue.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
            guard !total.overflow else { return Int32.max }
            return Int32(clamping: total.partialValue)
        }
    }

    /// `PRAGMA synchronous` levels.
    public enum Synchronous: Sendable {
        case off
        case normal
        case full

        var pragmaValue: String {
            switch self {
            case .off: "OFF"
            case .normal: "NORMAL"
            case .full: "FULL"
            }
        }
    }
}
