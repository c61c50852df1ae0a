/// `POST /v1/allocations/{id}/status`. Idempotent: the same report twice is one transition.
public struct AllocationStatusRequest: Codable, Hashable, Sendable {
    public enum Phase: String, Codable, Hashable, Sendable {
        /// `staging`: the agent copies the job's stage sources (`message`: the progress); STARTING.
        case starting, staging, running, exited
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
    /// With `launch_failed`: the node could not prepare the launch (its stage cache is full, a stage source is
    /// not mounted there), so the job goes back to the queue from the infrastructure budget.
    public var nodeFault: Bool?
    /// The final account of what the job used (exit reports).
    public var usage: UsageReport?
    /// The kernel killed a process of the job at its cgroup's memory limit.
    public var outOfMemory: Bool?

    public init(
        phase: Phase,
        pid: Int32? = nil,
        exitCode: Int32? = nil,
        signal: Int32? = nil,
        message: String? = nil,
        timedOut: Bool? = nil,
        fenced: Bool? = nil,
        usage: UsageReport? = nil,
        outOfMemory: Bool? = nil
    ) {
        self.outOfMemory = outOfMemory
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

/// `POST /v1/allocations/{id}/logs?offset=N` answers with the size the controller holds: the agent ships
/// from there on (after a lost answer, a restart or a controller outage), so no byte is lost or doubled.
public struct LogAppendResponse: Codable, Hashable, Sendable {
    public var size: Int
    public init(size: Int) { self.size = size }
}
