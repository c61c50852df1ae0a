import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport

/// Accounting (`GET /v1/usage`, `corral usage`): every stored job that may have run in the window, streamed
/// through `UsageSummary`. It reads SQLite on a connection and a queue of its own, not the cluster state's: a
/// week of a busy cluster is a million stored jobs (7 s, docs/PERFORMANCE.md), which must not hold up
/// submissions and agents' reports meanwhile. The state writes through to SQLite before its memory moves, so
/// what this reads is what memory holds, less fields accounting does not read (pending reasons, idle marks).
actor Accounting {
    let executor = DispatchSerialExecutor(label: "corral.controller.accounting")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let database: ClusterDatabase
    private let clock: any WallClock

    init(database: ClusterDatabase, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Jobs submitted in the last `seconds` (or since `start`), or that ran in that time, of `user` when given,
    /// grouped `by`.
    func usage(seconds: Int, start: Timestamp?, by grouping: UsageGrouping, user: String?) throws -> UsageResponse {
        let now = clock.now()
        let since = start ?? now + .seconds(-seconds)
        var summary = UsageSummary.Accumulator(since: since, by: grouping, now: now)
        try database.forEachAccountedJob(activeSince: since, user: user) { summary.add($0) }
        return UsageResponse(
            since: WireTime.format(since),
            by: grouping.rawValue,
            rows: summary.rows.map(UsageRowView.init)
        )
    }
}
