import ClusterCore

/// What the cluster's operations refuse, in the domain's words. The API layer maps each to an HTTP status in
/// one place (`API/APIError+Mapping.swift`); nothing below it knows HTTP.
enum ClusterError: Error, Sendable {
    /// No such job, or one the caller may not see (reported alike, so ids cannot be probed).
    case jobNotFound(String)
    /// A prefix that matches several of the caller's jobs.
    case ambiguousJob(String, matches: [JobID])
    /// The job already ended; nothing to cancel.
    case alreadyFinished(JobID, JobState)
    case nodeNotFound(String)
    /// A node that must register first.
    case nodeNotRegistered(NodeID)
    /// An admin revoked the node; it may not register again until resumed.
    case nodeRevoked(NodeID)
    /// `corral nodes approve` of a node that needs none (without `--rejoin`).
    case nodeAlreadyApproved(NodeID)
    case allocationNotFound(String)
    /// An agent reporting on an allocation of another node.
    case allocationOfAnotherNode(AllocationID, NodeID)
    case unknownQueue(String, known: [String])
    /// A `depends_on` id that is no job or array the caller can see (unknown and another user's alike).
    case unknownDependency(String)
    case noSuchAttempt(JobID, Int)
    /// `corral exec` into a job that is not running.
    case notRunning(JobID, JobState)
    /// `corral exec` into a container job.
    case execIntoContainer(JobID)
    /// The lifecycle refused a job-control request (`action`: hold, release, requeue, update, submit).
    case refused(JobID?, String, LifecycleRejection)
    /// An `Idempotency-Key` used before with another request body.
    case idempotencyKeyReused(String)
}
