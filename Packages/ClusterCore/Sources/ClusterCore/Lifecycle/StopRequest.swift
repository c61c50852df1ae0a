/// Why the controller asked a placed job's processes to stop. The job keeps its state until its node confirms
/// they are gone (its exit report, or its lease running out on a lost node); only then does it end, CANCELED
/// or FAILED (TIMEOUT) as the request said. A job is never reported ended while a process of it may still run.
public struct StopRequest: Hashable, Sendable {
    public enum Reason: Hashable, Sendable {
        /// A user (or admin) canceled it: it ends CANCELED and is never retried.
        case cancel(by: String)
        /// It ran past its time limit and its node did not end it: it ends FAILED (TIMEOUT).
        case timeLimit
        /// A job of a higher tier needs what it holds: it goes back to the queue, its retries untouched.
        case preempt(by: JobID)
        /// A user or admin requeued it (`corral requeue`): back to the queue, its retries untouched (a
        /// `--hold` is the job's own `hold`, taken at the request).
        case requeue(Requester)
    }

    public var reason: Reason
    public var at: Timestamp

    public init(_ reason: Reason, at: Timestamp) {
        self.reason = reason
        self.at = at
    }

    public var isCancel: Bool {
        if case .cancel = reason { return true }
        return false
    }

    /// For people: "canceled by alice", "time limit reached".
    public var description: String {
        switch reason {
        case .cancel(let user): "canceled by \(user)"
        case .timeLimit: "time limit reached (TIMEOUT)"
        case .preempt(let job): "preempted by job \(job)"
        case .requeue(let requester): "requeued by \(requester.name)"
        }
    }
}
