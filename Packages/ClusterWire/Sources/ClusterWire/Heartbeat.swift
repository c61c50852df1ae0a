/// `POST /v1/agents/{node}/heartbeat`.
public struct HeartbeatRequest: Codable, Hashable, Sendable {
    public var bootId: String?
    public var running: [RunningAllocation]
    public var gpus: [GPUReport]?
    public var healthy: Bool
    /// Why it is unhealthy, in words an operator can act on.
    public var message: String?
    /// Free bytes where the agent keeps job logs.
    public var diskFree: Int64?
    /// The allocation lease the agent holds now (see `RegisterRequest.allocationLeaseMs`).
    public var allocationLeaseMs: Int?
    /// Why the update a rollout asked for failed (`AgentUpdateOrder`): the old agent runs on.
    public var updateError: String?
    /// Its stage cache, where it has one.
    public var stageCache: StageCacheReport?

    public init(
        bootId: String?,
        running: [RunningAllocation],
        gpus: [GPUReport]? = nil,
        healthy: Bool = true,
        message: String? = nil,
        diskFree: Int64? = nil,
        allocationLeaseMs: Int? = nil,
        updateError: String? = nil
    ) {
        self.updateError = updateError
        self.diskFree = diskFree
        self.allocationLeaseMs = allocationLeaseMs
        self.bootId = bootId
        self.running = running
        self.gpus = gpus
        self.healthy = healthy
        self.message = message
    }
}

/// Every answer carries the settings the agent must follow now, not only the registration's: a controller
/// restarted with other settings reaches agents that never register again.
public struct HeartbeatResponse: Codable, Hashable, Sendable {
    /// Allocations to stop (canceled, or moved elsewhere while the node was away).
    public var stop: [String]
    /// Of `stop`, those preempted (their checkpoint signal comes first); older agents just stop them.
    public var preempt: [String]?
    public var heartbeatIntervalMs: Int
    public var allocationLeaseMs: Int?
    public var longPollSeconds: Int?
    /// A rolling update's order to this node's agent.
    public var update: AgentUpdateOrder?

    public init(
        stop: [String],
        heartbeatIntervalMs: Int,
        allocationLeaseMs: Int? = nil,
        longPollSeconds: Int? = nil
    ) {
        self.stop = stop
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.allocationLeaseMs = allocationLeaseMs
        self.longPollSeconds = longPollSeconds
    }
}
