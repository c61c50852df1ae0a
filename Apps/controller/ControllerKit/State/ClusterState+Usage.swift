import ClusterCore
import ClusterWire

/// Accounting (`GET /v1/usage`, `corral usage`): the jobs in memory (every job the store keeps) summed by
/// `UsageSummary`.
extension ClusterState {
    /// Jobs submitted in the last `seconds` (or since `start`), of `user` when given, grouped `by`.
    func usage(seconds: Int, start: Timestamp?, by grouping: UsageGrouping, user: String?) -> UsageResponse {
        let now = clock.now()
        let since = start ?? now + .seconds(-seconds)
        let chosen = jobs.values.filter { user == nil || $0.user == user }
        let rows = UsageSummary.rows(chosen, since: since, by: grouping, now: now)
        return UsageResponse(since: WireTime.format(since), by: grouping.rawValue, rows: rows.map(UsageRowView.init))
    }
}
