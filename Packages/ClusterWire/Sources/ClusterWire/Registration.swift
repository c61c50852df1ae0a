// The controller <-> agent protocol (DESIGN.md "Controller <-> agent"). The agent pulls; nodes open no port:
// it registers (here), heartbeats (Heartbeat.swift), long-polls for assignments (Assignments.swift) and reports
// on its allocations (StatusReports.swift), with what it knows of its node (AgentReports.swift).

/// `POST /v1/agents/register` with the cluster join token.
public struct RegisterRequest: Codable, Hashable, Sendable {
    public var nodeId: String
    public var hostname: String
    public var bootId: String?
    public var cpus: Int
    public var memory: Int64
    public var gpus: [GPUReport]
    public var labels: [String: String]
    public var agentVersion: String
    /// The SHA-256 of the agent's own binary (64 lowercase hex digits): which published build it runs.
    public var agentBuild: String?
    public var running: [RunningAllocation]
    /// `nvidia-smi topo -m` by GPU index (`NV18`, `PIX`, `SYS`...), where the node could tell.
    public var gpuTopology: [[String]]?
    /// The allocation lease the agent holds now (from its lease file, written under an earlier controller
    /// process perhaps), so a controller with a shorter one waits for it before running the node's jobs
    /// elsewhere.
    public var allocationLeaseMs: Int?
    /// How the agent contains jobs: "cgroup v2", "cgroup v2 (+ v1 memory, cpu)", or "none: WHY" where an
    /// operator let it run jobs without cgroups.
    public var containment: String?
    /// The address other nodes reach this one at (agent.toml `address`); nil: where the registration came from.
    public var address: String?

    public init(
        nodeId: String,
        hostname: String,
        bootId: String?,
        cpus: Int,
        memory: Int64,
        gpus: [GPUReport],
        labels: [String: String],
        agentVersion: String,
        running: [RunningAllocation],
        gpuTopology: [[String]]? = nil,
        allocationLeaseMs: Int? = nil,
        containment: String? = nil,
        address: String? = nil,
        agentBuild: String? = nil
    ) {
        self.agentBuild = agentBuild
        self.address = address
        self.containment = containment
        self.gpuTopology = gpuTopology
        self.allocationLeaseMs = allocationLeaseMs
        self.nodeId = nodeId
        self.hostname = hostname
        self.bootId = bootId
        self.cpus = cpus
        self.memory = memory
        self.gpus = gpus
        self.labels = labels
        self.agentVersion = agentVersion
        self.running = running
    }
}

/// The node's own token (the only credential for its later calls) and the settings it must follow.
public struct RegisterResponse: Codable, Hashable, Sendable {
    public var nodeId: String
    public var nodeToken: String
    public var heartbeatIntervalMs: Int
    public var longPollSeconds: Int
    /// Allocations the agent reported that the controller no longer wants: stop them.
    public var stop: [String]
    /// How long the agent may keep jobs running without renewing (a successful heartbeat) before it must stop
    /// them itself.
    public var allocationLeaseMs: Int?

    public init(
        nodeId: String,
        nodeToken: String,
        heartbeatIntervalMs: Int,
        longPollSeconds: Int,
        stop: [String],
        allocationLeaseMs: Int? = nil
    ) {
        self.allocationLeaseMs = allocationLeaseMs
        self.nodeId = nodeId
        self.nodeToken = nodeToken
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.longPollSeconds = longPollSeconds
        self.stop = stop
    }
}
