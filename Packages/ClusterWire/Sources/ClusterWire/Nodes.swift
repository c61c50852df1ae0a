/// `GET /v1/nodes`.
public struct NodeView: Codable, Hashable, Sendable {
    public var id: String
    public var hostname: String
    public var status: String
    public var drained: Bool
    public var gpus: [GPUReport]
    public var gpusUsed: Int
    public var cpus: Int
    public var cpusUsed: Int
    public var memory: Int64
    public var memoryUsed: Int64
    public var labels: [String: String]
    public var lastHeartbeat: String
    public var drainReason: String?
    /// An admin cut this node off (`corral nodes revoke`).
    public var revoked: Bool?
    /// False while the node waits for an admin's approval (`corral nodes approve`); absent once approved.
    public var approved: Bool?
    /// Why an UNHEALTHY node says it is (its agent's own checks).
    public var message: String?
    /// Free bytes where the node keeps job logs, at its last heartbeat.
    public var diskFree: Int64?
    /// How its GPUs are connected, by index (see `RegisterRequest.gpuTopology`).
    public var gpuTopology: [[String]]?
    /// How its agent contains jobs (`RegisterRequest.containment`).
    public var containment: String?
    /// The address gang jobs reach it at.
    public var address: String?
    /// The version of the agent build it runs: the published version of that build (matched by SHA-256,
    /// `corral-controller agents publish`), else what the agent binary says of itself.
    public var agentVersion: String?
    /// The SHA-256 of its agent binary.
    public var agentBuild: String?
    /// Its stage cache, as its last heartbeat reported it.
    public var stageCache: StageCacheReport?

    public init(
        id: String,
        hostname: String,
        status: String,
        drained: Bool,
        gpus: [GPUReport],
        gpusUsed: Int,
        cpus: Int,
        cpusUsed: Int,
        memory: Int64,
        memoryUsed: Int64,
        labels: [String: String],
        lastHeartbeat: String,
        drainReason: String? = nil,
        revoked: Bool? = nil,
        message: String? = nil,
        diskFree: Int64? = nil,
        gpuTopology: [[String]]? = nil,
        containment: String? = nil,
        address: String? = nil
    ) {
        self.address = address
        self.containment = containment
        self.gpuTopology = gpuTopology
        self.message = message
        self.diskFree = diskFree
        self.revoked = revoked
        self.id = id
        self.hostname = hostname
        self.status = status
        self.drained = drained
        self.gpus = gpus
        self.gpusUsed = gpusUsed
        self.cpus = cpus
        self.cpusUsed = cpusUsed
        self.memory = memory
        self.memoryUsed = memoryUsed
        self.labels = labels
        self.lastHeartbeat = lastHeartbeat
        self.drainReason = drainReason
    }
}

/// `POST /v1/nodes/{id}/drain` (admin): no new work; running jobs finish.
public struct DrainRequest: Codable, Hashable, Sendable {
    public var reason: String?
    public init(reason: String? = nil) { self.reason = reason }
}

public struct NodeListResponse: Codable, Hashable, Sendable {
    public var nodes: [NodeView]
    public init(nodes: [NodeView]) { self.nodes = nodes }
}
