public import ClusterCore

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
