public import ClusterCore

/// The controller <-> agent protocol (DESIGN.md "Controller <-> agent"). The agent pulls; nodes open no port.

/// A GPU as the agent reports it at registration and in heartbeats.
public struct GPUReport: Codable, Hashable, Sendable {
    public var index: Int
    public var uuid: String
    public var name: String
    public var memoryMib: Int?
    public var memoryUsedMib: Int?
    public var utilization: Int?
    public var healthy: Bool

    public init(
        index: Int,
        uuid: String,
        name: String,
        memoryMib: Int? = nil,
        memoryUsedMib: Int? = nil,
        utilization: Int? = nil,
        healthy: Bool = true
    ) {
        self.index = index
        self.uuid = uuid
        self.name = name
        self.memoryMib = memoryMib
        self.memoryUsedMib = memoryUsedMib
        self.utilization = utilization
        self.healthy = healthy
    }
}

/// What an allocation's processes use (`ResourceUsage` on the wire): in heartbeats while it runs, in the exit
/// report at the end, and in job views.
public struct UsageReport: Codable, Hashable, Sendable {
    public var cpuSeconds: Double
    /// Resident memory, bytes.
    public var memory: Int64
    public var peakMemory: Int64
    public var gpuMemoryMib: Int?

    public init(cpuSeconds: Double, memory: Int64, peakMemory: Int64, gpuMemoryMib: Int? = nil) {
        self.cpuSeconds = cpuSeconds
        self.memory = memory
        self.peakMemory = peakMemory
        self.gpuMemoryMib = gpuMemoryMib
    }

    public init(_ usage: ResourceUsage) {
        self.init(
            cpuSeconds: usage.cpuSeconds,
            memory: usage.memoryBytes,
            peakMemory: usage.peakMemoryBytes,
            gpuMemoryMib: usage.gpuMemoryMiB
        )
    }

    /// Nil for figures no node could have measured (negative, not finite, beyond any machine).
    public var usage: ResourceUsage? {
        guard cpuSeconds.isFinite, cpuSeconds >= 0, cpuSeconds < 1e12, memory >= 0, peakMemory >= 0,
            memory < 1 << 56, peakMemory < 1 << 56, (gpuMemoryMib ?? 0) >= 0
        else { return nil }
        return ResourceUsage(
            cpuSeconds: cpuSeconds,
            memoryBytes: memory,
            peakMemoryBytes: max(memory, peakMemory),
            gpuMemoryMiB: gpuMemoryMib
        )
    }
}

/// An allocation the agent is running (or has just seen end), reported on register and heartbeat.
public struct RunningAllocation: Codable, Hashable, Sendable {
    public var allocationId: String
    public var pid: Int32?
    public var usage: UsageReport?
    public init(allocationId: String, pid: Int32?, usage: UsageReport? = nil) {
        self.allocationId = allocationId
        self.pid = pid
        self.usage = usage
    }
}

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
    public var running: [RunningAllocation]
    /// `nvidia-smi topo -m` by GPU index (`NV18`, `PIX`, `SYS`...), where the node could tell.
    public var gpuTopology: [[String]]?
    /// The allocation lease the agent holds now (from its lease file, written under an earlier controller
    /// process perhaps), so a controller with a shorter one waits for it before running the node's jobs
    /// elsewhere.
    public var allocationLeaseMs: Int?

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
        allocationLeaseMs: Int? = nil
    ) {
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

    public init(
        bootId: String?,
        running: [RunningAllocation],
        gpus: [GPUReport]? = nil,
        healthy: Bool = true,
        message: String? = nil,
        diskFree: Int64? = nil,
        allocationLeaseMs: Int? = nil
    ) {
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
    public var heartbeatIntervalMs: Int
    public var allocationLeaseMs: Int?
    public var longPollSeconds: Int?

    public init(stop: [String], heartbeatIntervalMs: Int, allocationLeaseMs: Int? = nil, longPollSeconds: Int? = nil) {
        self.stop = stop
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.allocationLeaseMs = allocationLeaseMs
        self.longPollSeconds = longPollSeconds
    }
}

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
        killGrace: Int? = nil
    ) {
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
    public init(launch: [LaunchSpec], stop: [String]) {
        self.launch = launch
        self.stop = stop
    }
}

/// `POST /v1/allocations/{id}/status`. Idempotent: the same report twice is one transition.
public struct AllocationStatusRequest: Codable, Hashable, Sendable {
    public enum Phase: String, Codable, Hashable, Sendable {
        case starting, running, exited
        case launchFailed = "launch_failed"
    }
    public var phase: Phase
    public var pid: Int32?
    public var exitCode: Int32?
    public var signal: Int32?
    public var message: String?
    public var timedOut: Bool?
    /// The agent stopped the job itself because it could not renew its lease (the controller was out of reach
    /// for longer than the allocation lease): not the job's fault, so it is retried from the infrastructure
    /// budget.
    public var fenced: Bool?
    /// The final account of what the job used (exit reports).
    public var usage: UsageReport?

    public init(
        phase: Phase,
        pid: Int32? = nil,
        exitCode: Int32? = nil,
        signal: Int32? = nil,
        message: String? = nil,
        timedOut: Bool? = nil,
        fenced: Bool? = nil,
        usage: UsageReport? = nil
    ) {
        self.usage = usage
        self.fenced = fenced
        self.phase = phase
        self.pid = pid
        self.exitCode = exitCode
        self.signal = signal
        self.message = message
        self.timedOut = timedOut
    }
}

public struct AllocationStatusResponse: Codable, Hashable, Sendable {
    /// The job's state after the report.
    public var jobState: String
    /// False when the report changed nothing (a repeat, or refused: the job had moved on, e.g. CANCELED).
    public var applied: Bool
    /// True when the agent should stop the allocation (the job was canceled or moved).
    public var stop: Bool
    public init(jobState: String, applied: Bool, stop: Bool) {
        self.jobState = jobState
        self.applied = applied
        self.stop = stop
    }
}

/// `POST /v1/agents/{node}/status`: an agent's pending status reports in one request, applied in order (each
/// as `POST /v1/allocations/{id}/status` would). At most `maxReports`.
public struct StatusBatchRequest: Codable, Hashable, Sendable {
    public static let maxReports = 256
    public var reports: [AllocationStatusReport]
    public init(reports: [AllocationStatusReport]) { self.reports = reports }
}

public struct AllocationStatusReport: Codable, Hashable, Sendable {
    public var allocationId: String
    public var status: AllocationStatusRequest
    public init(allocationId: String, status: AllocationStatusRequest) {
        self.allocationId = allocationId
        self.status = status
    }
}

/// One result per report, in the same order: `status` is what the single-report route would have answered
/// (200 with `response`, else the error's status and message).
public struct StatusBatchResponse: Codable, Hashable, Sendable {
    public var results: [StatusBatchResult]
    public init(results: [StatusBatchResult]) { self.results = results }
}

public struct StatusBatchResult: Codable, Hashable, Sendable {
    public var allocationId: String
    public var status: Int
    public var response: AllocationStatusResponse?
    public var error: String?
    public init(allocationId: String, status: Int, response: AllocationStatusResponse? = nil, error: String? = nil) {
        self.allocationId = allocationId
        self.status = status
        self.response = response
        self.error = error
    }
}

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
    /// Why an UNHEALTHY node says it is (its agent's own checks).
    public var message: String?
    /// Free bytes where the node keeps job logs, at its last heartbeat.
    public var diskFree: Int64?
    /// How its GPUs are connected, by index (see `RegisterRequest.gpuTopology`).
    public var gpuTopology: [[String]]?

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
        gpuTopology: [[String]]? = nil
    ) {
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

/// `POST /v1/allocations/{id}/logs?offset=N` answers with the size the controller holds: the agent ships
/// from there on (after a lost answer, a restart or a controller outage), so no byte is lost or doubled.
public struct LogAppendResponse: Codable, Hashable, Sendable {
    public var size: Int
    public init(size: Int) { self.size = size }
}
