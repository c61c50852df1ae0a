public import ClusterCore

/// What the controller posts to a job's `--notify` URL (issue 17): `Content-Type: application/json`, no
/// token of any kind, when the job starts (`started`), ends (`ended`: SUCCEEDED, FAILED or CANCELED) or is
/// preempted (`preempted`). Delivered at least once per event while the controller runs (retried with
/// backoff), not across a controller restart.
public struct JobNotification: Codable, Hashable, Sendable {
    public struct JobSummary: Codable, Hashable, Sendable {
        public var id: String
        public var name: String
        public var user: String
        public var queue: String
        public var state: String
        public var attempt: Int
        public var node: String?
        public var exitCode: Int32?
        public var signal: String?
        /// TIMEOUT or OUT_OF_MEMORY.
        public var exitReason: String?
        public var message: String?
    }

    /// started, ended or preempted.
    public var event: String
    public var at: String
    public var job: JobSummary

    public init(event: String, job: Job, at: Timestamp) {
        self.event = event
        self.at = WireTime.format(at)
        let attempt = job.currentAttempt
        self.job = JobSummary(
            id: job.id.rawValue,
            name: job.spec.name,
            user: job.user,
            queue: job.spec.queue,
            state: job.state.rawValue,
            attempt: attempt?.number ?? 0,
            node: attempt?.node.rawValue,
            exitCode: attempt?.exit?.code,
            signal: attempt?.exit?.signal.map(SignalName.name),
            exitReason: attempt?.exit?.reason,
            message: job.message
        )
    }

    /// The event a stored change of a job calls for, if any.
    public static func event(before: Job, after: Job) -> String? {
        if after.preemptions > before.preemptions { return "preempted" }
        if Job.endedLost(before: before, after: after) { return "ended" }
        guard before.state != after.state else { return nil }
        if after.state == .running, before.state != .lost { return "started" }
        if [.succeeded, .failed, .canceled].contains(after.state) { return "ended" }
        return nil
    }
}
