public import ClusterCore

/// `GET /v1/usage?since=7d&by=user|queue|node&user=U`: accounting rows (`UsageSummary`).
public struct UsageResponse: Codable, Hashable, Sendable {
    /// The start of the window: jobs submitted at or after it count.
    public var since: String
    public var by: String
    public var rows: [UsageRowView]

    public init(since: String, by: String, rows: [UsageRowView]) {
        self.since = since
        self.by = by
        self.rows = rows
    }
}

public struct UsageRowView: Codable, Hashable, Sendable {
    public var key: String
    public var jobs: Int
    public var gpuHours: Double
    public var cpuHours: Double
    /// From submission to first start, over the jobs that started; absent when none did.
    public var meanWaitSeconds: Double?
    public var failures: Int

    public init(_ row: UsageRow) {
        key = row.key
        jobs = row.jobs
        gpuHours = row.gpuSeconds / 3600
        cpuHours = row.cpuSeconds / 3600
        meanWaitSeconds = row.meanWaitSeconds
        failures = row.failures
    }
}
