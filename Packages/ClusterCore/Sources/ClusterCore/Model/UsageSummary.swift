/// Accounting (issue 17): what jobs used, summed per user, queue or node, from their attempts. GPU- and
/// CPU-time are what was allocated while the job's processes ran (start to end, or to now for a running one),
/// as Slurm's AllocTRES × Elapsed counts them; a gang counts every rank's node. Pure: jobs in, rows out.
public enum UsageGrouping: String, CaseIterable, Sendable {
    case user, queue, node
}

public struct UsageRow: Hashable, Sendable {
    public var key: String
    /// Jobs submitted in the window (for `node`: those that ran there).
    public var jobs = 0
    public var gpuSeconds = 0.0
    public var cpuSeconds = 0.0
    /// Jobs that started, and their waits from submission to their first start, summed.
    public var started = 0
    public var waitSeconds = 0.0
    /// Jobs that ended FAILED or LOST.
    public var failures = 0

    public init(key: String) { self.key = key }

    public var meanWaitSeconds: Double? { started > 0 ? waitSeconds / Double(started) : nil }
}

public enum UsageSummary {
    /// One run of a job's processes on one node: where, with how many GPUs and CPUs, for how long.
    struct Run {
        var node: NodeID
        var gpus: Int
        var cpus: Int
        var start: Timestamp
        var end: Timestamp

        var seconds: Double { max(0, Double((end - start).milliseconds) / 1000) }

        /// The part inside [from, to]; nil when none is.
        func clipped(from: Timestamp, to: Timestamp) -> Run? {
            var run = self
            run.start = max(start, from)
            run.end = min(end, to)
            return run.end > run.start ? run : nil
        }
    }

    /// The rows for the window from `since` to `now`, biggest GPU use first (then by key). A job counts when it
    /// was submitted in the window or ran in it; its runs count only for the part inside the window, so a long
    /// job is split between windows as Slurm's accounting splits it. Waits count for jobs that first started
    /// in the window, failures for jobs whose last attempt ended in it.
    public static func rows(
        _ jobs: some Sequence<Job>,
        since: Timestamp,
        by grouping: UsageGrouping,
        now: Timestamp
    ) -> [UsageRow] {
        var summary = Accumulator(since: since, by: grouping, now: now)
        for job in jobs { summary.add(job) }
        return summary.rows
    }

    /// `rows`, one job at a time: a controller streams a million stored jobs through it without holding them.
    public struct Accumulator: Sendable {
        let since: Timestamp
        let grouping: UsageGrouping
        let now: Timestamp
        var byKey: [String: UsageRow] = [:]

        public init(since: Timestamp, by grouping: UsageGrouping, now: Timestamp) {
            self.since = since
            self.grouping = grouping
            self.now = now
        }

        /// Biggest GPU use first (then by key).
        public var rows: [UsageRow] { byKey.values.sorted { ($1.gpuSeconds, $0.key) < ($0.gpuSeconds, $1.key) } }

        public mutating func add(_ job: Job) {
            // A finished job whose end was never recorded ended by its last change, not now.
            let end = job.state.isFinished ? job.updatedAt : now
            let all = job.attempts.flatMap { UsageSummary.runs(of: $0, now: end) }
            let inside = all.compactMap { $0.clipped(from: since, to: now) }
            guard job.submittedAt >= since || !inside.isEmpty else { return }
            let first = all.min { $0.start < $1.start }
            let last = job.attempts.last
            let failed =
                (job.state == .failed || job.state == .lost)
                && (last.flatMap { $0.endedAt ?? job.updatedAt } ?? job.updatedAt) >= since
            let keys: [String]
            switch grouping {
            case .user: keys = [job.user]
            case .queue: keys = [job.spec.queue]
            case .node: keys = Array(Set(inside.map(\.node.rawValue))).sorted()
            }
            for key in keys {
                var row = byKey[key] ?? UsageRow(key: key)
                row.jobs += 1
                for run in inside where grouping != .node || run.node.rawValue == key {
                    row.gpuSeconds += Double(run.gpus) * run.seconds
                    row.cpuSeconds += Double(run.cpus) * run.seconds
                }
                if let first, first.start >= since, grouping != .node || first.node.rawValue == key {
                    row.started += 1
                    row.waitSeconds += max(0, Double((first.start - job.submittedAt).milliseconds) / 1000)
                }
                // By node: on the node of the last attempt (a gang's rank 0).
                if failed && (grouping != .node || last?.node.rawValue == key) { row.failures += 1 }
                byKey[key] = row
            }
        }
    }

    /// The runs of an attempt: one per rank of a gang that started, else one if it started; one still running
    /// (or never given an end) runs to `now`.
    static func runs(of attempt: Attempt, now: Timestamp) -> [Run] {
        if !attempt.ranks.isEmpty {
            return attempt.ranks.compactMap { rank in
                rank.startedAt.map {
                    Run(
                        node: rank.node,
                        gpus: max(attempt.resources.gpus, rank.gpuIndices.count),
                        cpus: attempt.resources.cpus,
                        start: $0,
                        end: max($0, rank.endedAt ?? attempt.endedAt ?? now)
                    )
                }
            }
        }
        guard let start = attempt.startedAt else { return [] }
        return [
            Run(
                node: attempt.node,
                gpus: max(attempt.resources.gpus, attempt.gpuIndices.count),
                cpus: attempt.resources.cpus,
                start: start,
                end: max(start, attempt.endedAt ?? now)
            )
        ]
    }
}
