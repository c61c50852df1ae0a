public import ClusterCore

/// What the agent needs to start one allocation.
public struct LaunchSpec: Codable, Hashable, Sendable {
    public var allocationId: String
    public var jobId: String
    public var attempt: Int
    public var name: String
    public var user: String
    public var command: [String]
    public var cwd: String
    public var env: [String: String]
    public var gpuIndices: [Int]
    public var cpus: Int
    public var memory: Int64
    public var image: String?
    public var timeLimit: Int?
    /// Seconds between SIGTERM and SIGKILL when the job is stopped; nil means the agent's default.
    public var killGrace: Int?
    /// `USR1@120`: sent that long before the time limit, and before the SIGTERM of a preemption.
    public var checkpointSignal: String?
    /// The Unix account to run as; nil: the agent's own (a controller from before accounts were mapped).
    public var unixUser: String?
    /// For a gang: this allocation's rank, and every rank's node address by rank (the agent writes them to the
    /// job's hostfile). The rank variables themselves (`RANK`, `MASTER_ADDR`...) are in `env`.
    public var rank: Int?
    public var gangNodes: [String]?
    /// Sources to copy into the node's stage cache before the job starts (`--stage`).
    public var stage: [StageSource]?

    public init(
        allocationId: String,
        jobId: String,
        attempt: Int,
        name: String,
        user: String,
        command: [String],
        cwd: String,
        env: [String: String],
        gpuIndices: [Int],
        cpus: Int,
        memory: Int64,
        image: String?,
        timeLimit: Int?,
        killGrace: Int? = nil,
        unixUser: String? = nil,
        rank: Int? = nil,
        gangNodes: [String]? = nil
    ) {
        self.rank = rank
        self.gangNodes = gangNodes
        self.unixUser = unixUser
        self.allocationId = allocationId
        self.jobId = jobId
        self.attempt = attempt
        self.name = name
        self.user = user
        self.command = command
        self.cwd = cwd
        self.env = env
        self.gpuIndices = gpuIndices
        self.cpus = cpus
        self.memory = memory
        self.image = image
        self.timeLimit = timeLimit
        self.killGrace = killGrace
    }
}

/// `GET /v1/agents/{node}/assignments?wait=25`: returns at once when there is work, else after `wait` seconds
/// with empty lists.
public struct AssignmentsResponse: Codable, Hashable, Sendable {
    public var launch: [LaunchSpec]
    public var stop: [String]
    /// Of `stop`, those preempted (their checkpoint signal comes first); older agents just stop them.
    public var preempt: [String]?
    /// Commands to run in running jobs' contexts (`corral exec`).
    public var exec: [ExecAssignment]?
    public init(launch: [LaunchSpec], stop: [String], exec: [ExecAssignment]? = nil) {
        self.launch = launch
        self.stop = stop
        self.exec = exec
    }
}
