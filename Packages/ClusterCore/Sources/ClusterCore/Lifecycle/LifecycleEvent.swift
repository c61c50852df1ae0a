/// Something that happened to a job, as the lifecycle takes it: from the user, the scheduler, the job's agent
/// or the controller's own clock. `JobLifecycle.handle` turns each into the job's next version, the event
/// records to append and the effects to carry out.
public enum LifecycleEvent: Hashable, Sendable {
    /// The job was accepted; the first QUEUED record.
    case submitted
    /// The scheduler placed it on `node` with these GPUs: a new attempt and a launch lease start.
    case placed(node: NodeID, gpus: [Int])
    /// The scheduler placed a gang: one rank on each of these nodes, all at once; rank 0 listens on `port`.
    case placedGang([Placement], port: Int)
    /// The agent took the launch of `attempt` (its STARTING report); `rank` is the gang rank it runs.
    case accepted(attempt: Int, rank: Int = 0)
    /// The agent started the process of `attempt` (its RUNNING report).
    case started(attempt: Int, pid: Int32, rank: Int = 0)
    /// The agent reports that `attempt`'s processes are gone, and how they ended.
    case ended(attempt: Int, AttemptEnd, rank: Int = 0)
    /// The agent copies the job's stage sources to its node before the job starts (issue 20): STARTING, with
    /// the copy's progress as the job's message.
    case staging(attempt: Int, progress: String, rank: Int = 0)
    /// Live usage of `attempt` from a heartbeat: kept in memory until the final account arrives.
    case sampled(attempt: Int, ResourceUsage, rank: Int = 0)
    /// A user or admin cancels the job.
    case cancel(by: String)
    /// The agent did not take the launch within the launch lease (`reason` says so, for people).
    case launchLeaseExpired(reason: String, rank: Int = 0)
    /// The job's node stopped sending heartbeats, or an admin revoked it.
    case nodeLost(NodeID, reason: String)
    /// `attempt`'s processes are surely gone without a report: its lease ran out on a lost node, the node
    /// rebooted, or its agent no longer runs it.
    case allocationGone(attempt: Int, reason: String, rank: Int = 0)
    /// A LOST job's node came back within the lease and still runs `attempt` (it lists it).
    case reconnected(attempt: Int, rank: Int = 0)
    /// The scheduler preempts the placed job for `by`, a job of a higher tier: stopped, then back in the queue.
    case preempt(by: JobID)
    /// A RUNNING job passed its time limit (the controller's backstop to the node's own enforcement).
    case timeLimitReached
    /// `corral hold`: a QUEUED job waits, reason Held, until released.
    case hold(by: Requester)
    /// `corral release`: the hold ends; an admin's hold only by an admin.
    case release(by: Requester)
    /// `corral requeue`: a placed job is stopped and goes back to QUEUED, its retries untouched; held once
    /// back when `hold` (Slurm's `requeuehold`).
    case requeue(by: Requester, hold: Bool)
    /// `corral update`: a new time limit or priority. `maxPriority` is the job's queue's ceiling for users.
    case update(JobUpdate, by: Requester, maxPriority: Int)
    /// The controller found the job's GPUs idle (`IdleGPUs`): a record saying so, and when it will be canceled
    /// if its queue cancels idle jobs.
    case idleGPUs(meanPercent: Double, window: Duration, cancelAt: Timestamp?)
    /// A job in `depends_on` ended without succeeding, so this one can never run.
    case dependencyFailed(JobID, JobState)
}

/// How an attempt's processes ended, as its agent reports it.
public struct AttemptEnd: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// The process ran and ended (by itself or stopped): the exit says how.
        case exited
        /// The process could not be started (cwd missing, command not found, image pull failed).
        case launchFailed
        /// The agent stopped it because it could not renew its lease with the controller: a node fault.
        case fenced
        /// The node could not prepare the launch (its stage cache is full, a stage source is not mounted
        /// there): not the job's fault, so, as after a fenced attempt, it goes back to the queue from the
        /// infrastructure budget.
        case nodeFault
    }

    public var kind: Kind
    public var exit: JobExit
    /// The final account of what its processes used, when the node measured it.
    public var usage: ResourceUsage?

    public init(_ kind: Kind, exit: JobExit, usage: ResourceUsage? = nil) {
        self.kind = kind
        self.exit = exit
        self.usage = usage
    }
}
