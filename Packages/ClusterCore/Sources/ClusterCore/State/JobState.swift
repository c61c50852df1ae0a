/// The life of a job. See docs/job-states.md for the diagram; `JobStateMachine` holds the allowed edges.
public enum JobState: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case queued = "QUEUED"
    case allocated = "ALLOCATED"
    case starting = "STARTING"
    case running = "RUNNING"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    case lost = "LOST"
    case canceled = "CANCELED"

    public var description: String { rawValue }

    /// No further transition is possible, except a retry out of FAILED or LOST, which the retry policy decides.
    public var isFinished: Bool {
        switch self {
        case .succeeded, .failed, .lost, .canceled: true
        case .queued, .allocated, .starting, .running: false
        }
    }

    /// The job is placed on a node (holds GPUs there).
    public var isPlaced: Bool {
        switch self {
        case .allocated, .starting, .running: true
        default: false
        }
    }
}

/// Why a job is waiting in QUEUED. Every pending job has one.
public enum PendingReason: String, CaseIterable, Hashable, Sendable {
    case resources = "Resources"
    case priority = "Priority"
    case dependency = "Dependency"
    case queueLimit = "QueueLimit"
    case noFeasibleNode = "NoFeasibleNode"
    case held = "Held"
    /// A task of a job array whose `%limit` tasks already run.
    case arrayLimit = "ArrayLimit"
    /// Retried after a failure of its own, it waits out its backoff (`not_before`).
    case backoff = "BackOff"
    /// It preempts lower-tier jobs and waits for them to stop.
    case preempting = "Preempting"
}
