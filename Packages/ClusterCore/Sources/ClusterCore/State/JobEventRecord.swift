/// One row of the event log: every transition of every job, and every refused one.
public struct JobEventRecord: Hashable, Sendable {
    public var job: JobID
    public var attempt: Int
    public var from: JobState?
    public var to: JobState?
    public var reason: String
    public var node: NodeID?
    public var at: Timestamp
    /// False for a transition the state machine refused (logged, never applied).
    public var applied: Bool

    public init(
        job: JobID,
        attempt: Int,
        from: JobState?,
        to: JobState?,
        reason: String,
        node: NodeID?,
        at: Timestamp,
        applied: Bool = true
    ) {
        self.job = job
        self.attempt = attempt
        self.from = from
        self.to = to
        self.reason = reason
        self.node = node
        self.at = at
        self.applied = applied
    }
}
