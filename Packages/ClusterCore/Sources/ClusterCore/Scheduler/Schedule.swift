/// Resources held on a node by a live allocation (ALLOCATED, STARTING, RUNNING, or stopping after a cancel
/// until the agent confirms the process is gone). The scheduler never gives these GPUs to anyone else.
public struct HeldResources: Hashable, Sendable {
    public var node: NodeID
    public var gpuIndices: [Int]
    public var resources: Resources

    public init(node: NodeID, gpuIndices: [Int], resources: Resources) {
        self.node = node
        self.gpuIndices = gpuIndices
        self.resources = resources
    }
}

/// The scheduler's answer: where to place which job, and why the others wait.
public struct Schedule: Hashable, Sendable {
    public struct Assignment: Hashable, Sendable {
        public let job: JobID
        public let node: NodeID
        public let gpuIndices: [Int]
    }

    public var assignments: [Assignment]
    public var pending: [JobID: PendingReason]

    public init(assignments: [Assignment] = [], pending: [JobID: PendingReason] = [:]) {
        self.assignments = assignments
        self.pending = pending
    }
}
