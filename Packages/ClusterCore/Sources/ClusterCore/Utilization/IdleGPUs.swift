/// The idle-GPU rule (issue 17): a running job whose GPUs have averaged under `threshold` percent over the last
/// `window` is flagged idle; nothing of Slurm, Nomad or Kubernetes does this out of the box. With a queue's
/// `idle_cancel_after`, a flagged job gets a warning in its log, and is canceled once it has stayed idle that
/// much longer. Pure: the controller feeds it the job and its nodes' histories.
public struct IdleGPUPolicy: Hashable, Sendable {
    /// Percent: a mean under this is idle.
    public var threshold: Double
    public var window: Duration

    public init(threshold: Double = 5, window: Duration = .seconds(1800)) {
        self.threshold = threshold
        self.window = window
    }
}

/// A running job flagged idle, in the controller's memory only (`Job.idle`).
public struct IdleMark: Hashable, Sendable {
    /// When it was first found idle.
    public var since: Timestamp
    /// Its GPUs' mean utilization over the window, percent, at the last look.
    public var meanPercent: Double

    public init(since: Timestamp, meanPercent: Double) {
        self.since = since
        self.meanPercent = meanPercent
    }
}

public enum IdleGPUs {
    /// The mean utilization of the job's GPUs over the window when it is idle, nil when it is not (or cannot be
    /// told: not RUNNING, no GPUs, running for less than the window, or its nodes' figures cover less than
    /// three quarters of the window: a node that does not report utilization never gets a job flagged).
    public static func idleMean(
        _ job: Job,
        histories: [NodeID: UtilizationHistory],
        policy: IdleGPUPolicy,
        now: Timestamp
    ) -> Double? {
        guard job.state == .running, let attempt = job.liveAttempt, let started = attempt.startedAt,
            attempt.resources.gpus > 0, started + policy.window <= now
        else { return nil }
        let since = Timestamp(milliseconds: now.milliseconds - policy.window.milliseconds)
        let placements =
            attempt.isGang
            ? attempt.ranks.map { ($0.node, $0.gpuIndices) }
            : [(attempt.node, attempt.gpuIndices)]
        var weighted = 0.0
        var gpus = 0
        for (node, indices) in placements where !indices.isEmpty {
            guard let history = histories[node], let mean = history.mean(gpus: indices, since: since),
                mean.covered * 4 >= policy.window * 3
            else { return nil }
            weighted += mean.percent * Double(indices.count)
            gpus += indices.count
        }
        guard gpus > 0 else { return nil }
        let mean = weighted / Double(gpus)
        return mean < policy.threshold ? mean : nil
    }
}
