/// The figures a replay is judged by (issue 15's table): mean wait, bounded slowdown, the longest wait by job
/// size, GPU allocation between the first and last arrival, and fairness across the assigned users.
public struct ReplayMetrics: Sendable {
    public var jobs = 0
    public var neverStarted = 0
    public var meanWaitMinutes = 0.0
    public var boundedSlowdown = 0.0
    /// The longest wait of jobs of each GPU count, hours.
    public var maxWaitHoursByGPUs: [Int: Double] = [:]
    public var gpuAllocation = 0.0
    /// The largest user mean bounded slowdown, over the overall one.
    public var worstUserSlowdownRatio = 0.0
    public var overcommits = 0
    public var passes = 0
    public var schedulingSeconds = 0.0

    public init(jobs trace: [TraceJob], outcome: ReplaySimulator.Outcome, cluster: ReplayCluster) {
        jobs = trace.count
        overcommits = outcome.overcommits
        passes = outcome.passes
        schedulingSeconds = outcome.schedulingSeconds
        var waitSum = 0.0
        var slowdownSum = 0.0
        var byUser: [Int: (sum: Double, count: Int)] = [:]
        let first = trace.map(\.submit).min() ?? 0
        let last = trace.map(\.submit).max() ?? 0
        var allocated = 0.0
        for (index, job) in trace.enumerated() {
            guard let start = outcome.starts[index] else {
                neverStarted += 1
                continue
            }
            let wait = max(0, start - job.submit)
            waitSum += wait
            let slowdown = max(1, (wait + job.duration) / max(job.duration, 10))
            slowdownSum += slowdown
            byUser[outcome.users[index], default: (0, 0)].sum += slowdown
            byUser[outcome.users[index], default: (0, 0)].count += 1
            maxWaitHoursByGPUs[job.gpus] = max(maxWaitHoursByGPUs[job.gpus] ?? 0, wait / 3600)
            let overlap = min(start + job.duration, last) - max(start, first)
            if overlap > 0 { allocated += overlap * Double(job.gpus) }
        }
        let started = Double(max(1, jobs - neverStarted))
        meanWaitMinutes = waitSum / started / 60
        boundedSlowdown = slowdownSum / started
        gpuAllocation = last > first ? allocated / (Double(cluster.gpus) * (last - first)) : 0
        worstUserSlowdownRatio =
            (byUser.values.map { $0.sum / Double(max(1, $0.count)) }.max() ?? 0) / max(boundedSlowdown, 1e-9)
    }

    /// One row of the table: the four judged columns, then the rest.
    public func row(label: String) -> String {
        let eight = maxWaitHoursByGPUs[8].map { "\(fixed($0, 1)) h" } ?? "-"
        return "| \(label) | \(fixed(meanWaitMinutes, 1)) min | \(fixed(boundedSlowdown, 2)) | \(eight) | "
            + "\(fixed(gpuAllocation, 3)) | \(fixed(worstUserSlowdownRatio, 2)) | \(neverStarted) |"
    }

    public static let header = """
        | run | mean wait | bounded slowdown | 8-GPU max wait | GPU allocation | worst user / overall slowdown | never started |
        |---|---|---|---|---|---|---|
        """
}
