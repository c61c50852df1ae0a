import ClusterCore
import ClusterWire

extension Tables {
    /// The spec fields `corral show` prints besides command, cwd and resources (issue 18: they were missing):
    /// only those set, values of `env` never (names only: they may hold secrets).
    static func specLines(_ job: JobView) -> [(String, String)] {
        var lines: [(String, String)] = []
        if let image = job.image { lines.append(("image", image)) }
        if let type = job.gpuType { lines.append(("gpu type", type)) }
        if let memory = job.gpuMemory { lines.append(("gpu memory", "at least \(ByteSize.format(memory)) per GPU")) }
        if let limit = job.timeLimit { lines.append(("time limit", duration(.seconds(limit)))) }
        if let grace = job.killGrace { lines.append(("kill grace", "\(grace)s")) }
        if let signal = job.checkpointSignal.flatMap(JobSignal.parse) {
            lines.append(("signal", "SIG\(signal.name) \(signal.seconds)s before its time limit or a preemption"))
        }
        if job.priority != 0 { lines.append(("priority", "\(job.priority)")) }
        if let notify = job.notify { lines.append(("notify", "\(notify) (when it starts, ends or is preempted)")) }
        for stage in job.stage ?? [] { lines.append(("stage", "\(stage.source) -> $CORRAL_STAGE_\(stage.name)")) }
        if job.maxRetries > 0 {
            let used = max(0, job.attempts.filter { $0.state == "FAILED" }.count)
            lines.append(("retries", "up to \(job.maxRetries) for its own failures (\(used) failed attempts so far)"))
        }
        if let count = job.preemptions {
            let by = job.attempts.compactMap(\.preemptedBy).map { "job \($0)" }.joined(separator: ", ")
            lines.append(("preempted", "\(count) time\(count == 1 ? "" : "s") (by \(by)); no retry spent"))
        }
        if !job.dependsOn.isEmpty { lines.append(("after", job.dependsOn.joined(separator: ", "))) }
        if !job.labels.isEmpty {
            lines.append(
                (
                    "labels",
                    job.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                )
            )
        }
        if !job.env.isEmpty {
            lines.append(("env", job.env.keys.sorted().joined(separator: ", ") + " (values not shown)"))
        }
        return lines
    }

    /// GPU-hours the job's attempts held while they ran, as `corral usage` counts them: GPUs × run time, a
    /// gang rank by rank, a running attempt to now; nil for a job without GPUs, one that never started, or an
    /// array's summary (the view is its first task's).
    static func gpuHours(_ job: JobView, now: Timestamp) -> String? {
        guard job.gpus > 0, job.arraySummary == nil else { return nil }
        var seconds = 0.0
        var ran = false
        func add(_ start: String?, _ end: String?) {
            guard let start = start.flatMap(WireTime.parse) else { return }
            ran = true
            seconds += Double(max(0, ((end.flatMap(WireTime.parse) ?? now) - start).milliseconds)) / 1000
        }
        for attempt in job.attempts {
            if let ranks = attempt.ranks, !ranks.isEmpty {
                for rank in ranks { add(rank.startedAt, rank.endedAt ?? attempt.endedAt) }
            } else {
                add(attempt.startedAt, attempt.endedAt)
            }
        }
        return ran ? hundredths(seconds * Double(job.gpus) / 3600) : nil
    }

    /// A figure with two decimals, rounded once (9.996 is 10.00).
    static func hundredths(_ value: Double) -> String {
        let cents = Int64(min(max(value, 0), 1e15) * 100 + 0.5)
        return "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)"
    }
}

extension Tables {
    /// The REASON cell of a running job whose GPUs are flagged idle.
    static func idleMarker(_ idle: IdleView) -> String { "IDLE (GPUs at \(idle.meanUtilization)%)" }
}
