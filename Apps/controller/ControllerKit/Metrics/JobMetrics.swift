import ClusterCore

/// The counters and histograms of jobs' lives (issue 17), fed each stored change of a job as (before, after):
/// submissions, ends by final state and reason, retries by budget, preemptions, requeues, queue wait and
/// submit-to-running latency by queue; and the last hour's waits for `GET /v1/queues`. Memory only: counters
/// start again at zero with the controller, as Prometheus counters may (`rate()` handles resets).
struct JobMetrics: Sendable {
    struct Ended: Hashable, Sendable {
        var state: String
        var reason: String
    }

    private(set) var submissions: [String: Int] = [:]
    private(set) var ended: [Ended: Int] = [:]
    /// By budget: "job" (`max_retries`) or "node_fault" (the infrastructure budget).
    private(set) var retries: [String: Int] = [:]
    private(set) var preemptions: [String: Int] = [:]
    private(set) var requeues: [String: Int] = [:]
    private(set) var queueWait: [String: Histogram] = [:]
    private(set) var submitToRunning: [String: Histogram] = [:]
    /// First placements of the last hour: when, which queue, how long the job waited (seconds).
    private(set) var recentWaits: [(at: Timestamp, queue: String, seconds: Double)] = []

    static let recentSpan: Duration = .seconds(3600)

    mutating func observe(before: Job?, after: Job) {
        let queue = after.spec.queue
        guard let before else {
            if after.state == .queued { submissions[queue, default: 0] += 1 }
            return
        }
        if after.retriesUsed > before.retriesUsed { retries["job", default: 0] += 1 }
        if after.infraRetriesUsed > before.infraRetriesUsed { retries["node_fault", default: 0] += 1 }
        if after.preemptions > before.preemptions { preemptions[queue, default: 0] += 1 }
        if Job.endedLost(before: before, after: after) {
            ended[Ended(state: "LOST", reason: "node_fault"), default: 0] += 1
        }
        if before.state != after.state {
            if [.succeeded, .failed, .canceled].contains(after.state) {
                ended[Ended(state: after.state.rawValue, reason: Self.endReason(after)), default: 0] += 1
            }
            let backForFree =
                after.retriesUsed == before.retriesUsed && after.infraRetriesUsed == before.infraRetriesUsed
                && after.preemptions == before.preemptions
            if after.state == .queued, before.state.isPlaced || before.state == .lost, backForFree {
                requeues[queue, default: 0] += 1
            }
            if after.attempts.count == 1, let first = after.attempts.first {
                if before.state == .queued, after.state.isPlaced {
                    let seconds = Double((first.allocatedAt - after.submittedAt).milliseconds) / 1000
                    queueWait[queue, default: Histogram(Histogram.waits)].observe(seconds)
                    recentWaits.append((first.allocatedAt, queue, seconds))
                    if let oldest = recentWaits.first, first.allocatedAt - oldest.at > Self.recentSpan + Self.recentSpan
                    {
                        trim(now: first.allocatedAt)
                    }
                }
                // From STARTING only: a node back within its lease (LOST -> RUNNING) is no second start.
                if after.state == .running, before.state == .starting, let started = first.startedAt {
                    let seconds = Double((started - after.submittedAt).milliseconds) / 1000
                    submitToRunning[queue, default: Histogram(Histogram.waits)].observe(seconds)
                }
            }
        }
    }

    /// Why a finished job ended, as a label: completed; timeout, out_of_memory, launch_failed, signal,
    /// exit_code, dependency, node_fault for FAILED; canceled or idle_gpus for CANCELED.
    static func endReason(_ job: Job) -> String {
        switch job.state {
        case .succeeded: return "completed"
        case .canceled:
            if case .cancel(let by)? = job.stopRequest?.reason, by.hasPrefix("corral:") { return "idle_gpus" }
            return job.message?.hasPrefix("canceled by corral:") == true ? "idle_gpus" : "canceled"
        default:
            guard let attempt = job.currentAttempt else { return "dependency" }
            if let exit = attempt.exit {
                if exit.timedOut { return "timeout" }
                if exit.outOfMemory { return "out_of_memory" }
                if exit.signal != nil { return "signal" }
                if exit.code != nil { return "exit_code" }
            }
            if attempt.finalState == .lost || job.infraRetriesUsed > 0 && attempt.startedAt == nil {
                return "node_fault"
            }
            return attempt.startedAt == nil ? "launch_failed" : "exit_code"
        }
    }

    /// Drops waits older than the span.
    mutating func trim(now: Timestamp) {
        let oldest = Timestamp(milliseconds: now.milliseconds - Self.recentSpan.milliseconds)
        if let keep = recentWaits.firstIndex(where: { $0.at >= oldest }) {
            if keep > 0 { recentWaits.removeFirst(keep) }
        } else {
            recentWaits.removeAll()
        }
    }

    /// The 50th and 95th percentiles (nearest rank) of a queue's waits of the last hour, and how many.
    func waitFigures(queue: String, now: Timestamp) -> (p50: Double, p95: Double, count: Int)? {
        let oldest = Timestamp(milliseconds: now.milliseconds - Self.recentSpan.milliseconds)
        let waits = recentWaits.filter { $0.queue == queue && $0.at >= oldest }.map(\.seconds).sorted()
        guard !waits.isEmpty else { return nil }
        func rank(_ p: Double) -> Double { waits[max(Int((p * Double(waits.count)).rounded(.up)) - 1, 0)] }
        return (rank(0.5), rank(0.95), waits.count)
    }
}
