public import ClusterCore

/// One row of `GET /v1/jobs/{id}/events`: a transition (or a refused one, `applied: false`).
public struct EventView: Codable, Hashable, Sendable {
    public var attempt: Int
    public var from: String?
    public var to: String?
    public var reason: String
    public var node: String?
    public var at: String
    public var applied: Bool

    public init(_ record: JobEventRecord) {
        attempt = record.attempt
        from = record.from?.rawValue
        to = record.to?.rawValue
        reason = record.reason
        node = record.node?.rawValue
        at = WireTime.format(record.at)
        applied = record.applied
    }
}

public struct EventListResponse: Codable, Hashable, Sendable {
    public var events: [EventView]
    public init(events: [EventView]) { self.events = events }
}

/// `GET /v1/jobs/{id}/explain`: why a job waits (or where it would fit), one line per node.
public struct ExplainResponse: Codable, Hashable, Sendable {
    public struct NodeLine: Codable, Hashable, Sendable {
        public var node: String
        /// `fits`, or why not (`drained`, `lost`, `resources`, `gpu_type`, ...).
        public var verdict: String
        public var detail: String
        public init(node: String, verdict: String, detail: String) {
            self.node = node
            self.verdict = verdict
            self.detail = detail
        }
    }

    public var job: String
    public var state: String
    /// For a gang: how many nodes could take a rank, against how many it needs (and the topology groups).
    public var summary: String?
    public var reason: String?
    public var message: String?
    public var nodes: [NodeLine]

    public init(job: String, state: String, reason: String?, message: String?, nodes: [NodeLine]) {
        self.job = job
        self.state = state
        self.reason = reason
        self.message = message
        self.nodes = nodes
    }
}

/// `GET /v1/queues`: each queue's settings, depth and usage.
public struct QueueView: Codable, Hashable, Sendable {
    public var name: String
    public var priority: Int
    public var nodeSelector: [String: String]
    public var maxRunningGpusPerUser: Int?
    public var defaultTimeLimit: Int?
    /// QUEUED jobs.
    public var pending: Int
    /// Jobs placed on a node (ALLOCATED, STARTING, RUNNING).
    public var running: Int
    public var gpusInUse: Int
    /// Its running jobs may be preempted for jobs of a queue of higher priority.
    public var preemptible: Bool?
    /// The highest job priority a user may ask for here (admins any).
    public var maxPriority: Int?
    /// Seconds its idle jobs are canceled after being flagged (nil: only flagged).
    public var idleCancelAfter: Int?
    /// From submission to first placement, of the jobs placed in the last hour: median and 95th percentile
    /// (seconds), and how many; absent when none was placed.
    public var waitP50Seconds: Double?
    public var waitP95Seconds: Double?
    public var waitsCounted: Int?

    public init(
        name: String,
        priority: Int,
        nodeSelector: [String: String],
        maxRunningGpusPerUser: Int?,
        defaultTimeLimit: Int?,
        pending: Int,
        running: Int,
        gpusInUse: Int
    ) {
        self.name = name
        self.priority = priority
        self.nodeSelector = nodeSelector
        self.maxRunningGpusPerUser = maxRunningGpusPerUser
        self.defaultTimeLimit = defaultTimeLimit
        self.pending = pending
        self.running = running
        self.gpusInUse = gpusInUse
    }
}

public struct QueueListResponse: Codable, Hashable, Sendable {
    public var queues: [QueueView]
    public init(queues: [QueueView]) { self.queues = queues }
}
