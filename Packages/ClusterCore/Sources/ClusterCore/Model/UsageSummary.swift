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
        var seconds: Double
        var start: Timestamp
    }

    /// The rows for jobs submitted at or after `since`, biggest GPU use first (then by key).
    public static func rows(
        _ jobs: some Sequence<Job>,
        since: Timestamp,
        by grouping: UsageGrouping,
        now: Timestamp
    ) -> [UsageRow] {
        var rows: [String: UsageRow] = [:]
        for job in jobs where job.submittedAt >= since {
            let all = job.attempts.flatMap { Self.runs(of: $0, now: now) }
            let first = all.min { $0.start < $1.start }
            let failed = job.state == .failed || job.state == .lost
            let keys: [String]
            switch grouping {
            case .user: keys = [job.user]
            case .queue: keys = [job.spec.queue]
            case .node: keys = Array(Set(all.map(\.node.rawValue))).sorted()
            }
            for key in keys {
                var row = rows[key] ?? UsageRow(key: key)
                row.jobs += 1
                let mine = grouping == .node ? all.filter { $0.node.rawValue == key } : all
                for run in mine {
                    row.gpuSeconds += Double(run.gpus) * run.seconds
                    row.cpuSeconds += Double(run.cpus) * run.seconds
                }
                if let first, grouping != .node || first.node.rawValue == key {
                    row.started += 1
                    row.waitSeconds += max(0, Double((first.start - job.submittedAt).milliseconds) / 1000)
                }
                let last = job.attempts.last.map { Self.runs(of: $0, now: now).map(\.node.rawValue) } ?? []
                if failed && (grouping != .node || last.contains(key)) { row.failures += 1 }
                rows[key] = row
            }
        }
        return rows.values.sorted { ($1.gpuSeconds, $0.key) < ($0.gpuSeconds, $1.key) }
    }

    /// The runs of an attempt: one per rank of a gang that started, else one if it started.
    static func runs(of attempt: Attempt, now: Timestamp) -> [Run] {
        func seconds(_ start: Timestamp, _ end: Timestamp?) -> Double {
            max(0, Double(((end ?? now) - start).milliseconds) / 1000)
        }
        if !attempt.ranks.isEmpty {
            return attempt.ranks.compactMap { rank in
                rank.startedAt.map {
                    Run(
                        node: rank.node,
                        gpus: max(attempt.resources.gpus, rank.gpuIndices.count),
                        cpus: attempt.resources.cpus,
                        seconds: seconds($0, rank.endedAt ?? attempt.endedAt),
                        start: $0
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
                seconds: seconds(start, attempt.endedAt),
                start: start
            )
        ]
    }
}
