/// One GPU of a node, as the agent reported it.
public struct GPU: Hashable, Sendable {
    public var index: Int
    public var uuid: String
    public var name: String
    public var memoryMiB: Int?
    public var healthy: Bool
    /// Live figures from the latest heartbeat (nil when the node does not measure them, e.g. declared GPUs).
    /// Kept in memory only: they are stale the moment the node goes quiet.
    public var utilizationPercent: Int?
    public var memoryUsedMiB: Int?

    public init(index: Int, uuid: String, name: String, memoryMiB: Int? = nil, healthy: Bool = true) {
        self.index = index
        self.uuid = uuid
        self.name = name
        self.memoryMiB = memoryMiB
        self.healthy = healthy
    }
}

public enum NodeStatus: String, CaseIterable, Hashable, Sendable {
    /// Heartbeats arrive; the node takes work unless drained.
    case ready = "READY"
    /// Heartbeats stopped for longer than the node timeout.
    case lost = "LOST"
    /// The agent reports it cannot run work (a failed self-check).
    case unhealthy = "UNHEALTHY"
}

/// A node of the cluster: what it has, and whether it takes work.
public struct Node: Hashable, Sendable {
    public let id: NodeID
    public var hostname: String
    public var gpus: [GPU]
    public var cpus: Int
    public var memory: Int64
    public var labels: [String: String]
    public var status: NodeStatus
    public var drained: Bool
    public var drainReason: String?
    /// An admin cut the node off: its token is revoked and it may not register again until resumed.
    public var revoked: Bool = false
    /// An admin admitted it. With node approval on (`--approve-nodes`), a node id that joins with the cluster
    /// join token for the first time waits, registered but given no work, until `corral nodes approve`.
    public var approved: Bool = true
    public var bootID: String?
    /// How each pair of GPUs is connected (`nvidia-smi topo -m` codes by GPU index: `NV18`, `PIX`, `SYS`...);
    /// nil when unknown (declared GPUs). Placement prefers well-connected GPUs when it is known.
    public var gpuTopology: [[String]]?
    /// Why the agent says it is unhealthy (from its latest heartbeat; memory only).
    public var healthMessage: String?
    /// Free disk where the agent keeps job logs (from its latest heartbeat; memory only).
    public var diskFreeBytes: Int64?
    /// The longest allocation lease the node's agent may hold (what it last said it holds, or what this
    /// controller last told it, whichever is longer). Kept durable: after a restart with a shorter lease the
    /// controller still waits for the agent's own before it runs the node's jobs elsewhere.
    public var agentLease: Duration?
    /// How its agent contains jobs ("cgroup v2", "none: not root"), as it last registered.
    public var containment: String?
    /// What its agent binary says of itself (`corral-agent version`), and the SHA-256 of that binary, as it
    /// last registered: which published build it runs (`corral-controller agents publish`).
    public var agentVersion: String?
    public var agentBuild: String?
    /// The address other nodes reach it at (its agent's `address` setting, else where its registration came
    /// from): gang jobs' `MASTER_ADDR` and node list.
    public var address: String?
    public var registeredAt: Timestamp
    public var lastHeartbeat: Timestamp

    public init(
        id: NodeID,
        hostname: String,
        gpus: [GPU],
        cpus: Int,
        memory: Int64,
        labels: [String: String] = [:],
        status: NodeStatus = .ready,
        drained: Bool = false,
        bootID: String? = nil,
        registeredAt: Timestamp,
        lastHeartbeat: Timestamp
    ) {
        self.id = id
        self.hostname = hostname
        self.gpus = gpus
        self.cpus = cpus
        self.memory = memory
        self.labels = labels
        self.status = status
        self.drained = drained
        self.bootID = bootID
        self.registeredAt = registeredAt
        self.lastHeartbeat = lastHeartbeat
    }

    public var capacity: Resources { Resources(gpus: gpus.count, cpus: cpus, memory: memory) }

    /// Ready, approved and not drained: the scheduler may place new work here.
    public var isSchedulable: Bool { status == .ready && !drained && approved }
}
