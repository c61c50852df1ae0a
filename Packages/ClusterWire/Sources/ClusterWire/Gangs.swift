public import ClusterCore

/// One rank of a gang attempt, as `corral show` lists them.
public struct RankView: Codable, Hashable, Sendable {
    public var rank: Int
    public var node: String
    public var gpuIndices: [Int]
    /// PENDING (not taken yet), STARTING, RUNNING, EXITED (exit 0), FAILED, or GONE (ended without a report).
    public var state: String
    public var startedAt: String?
    public var endedAt: String?
    public var pid: Int32?
    public var exitCode: Int32?
    public var signal: String?
    public var message: String?

    public init(_ run: RankRun) {
        rank = run.rank
        node = run.node.rawValue
        gpuIndices = run.gpuIndices
        state = Self.state(of: run)
        startedAt = run.startedAt.map(WireTime.format)
        endedAt = run.endedAt.map(WireTime.format)
        pid = run.pid
        exitCode = run.exit?.code
        signal = run.exit?.signal.map(SignalName.name)
        message = run.endedAt == nil ? nil : run.exit.map(JobStateMachine.describe)
    }

    static func state(of run: RankRun) -> String {
        if run.endedAt != nil {
            if run.endKind == nil { return "GONE" }
            return run.failed ? "FAILED" : "EXITED"
        }
        if run.startedAt != nil { return "RUNNING" }
        return run.accepted ? "STARTING" : "PENDING"
    }
}

/// A task's place in its array.
public struct ArrayTaskView: Codable, Hashable, Sendable {
    public var arrayId: String
    public var index: Int
    public var count: Int
    public var limit: Int?

    public init(_ task: ArrayTask) {
        arrayId = task.array.rawValue
        index = task.index
        count = task.count
        limit = task.limit
    }
}

/// A whole array on one line of a listing: how many of its tasks are in each state.
public struct ArraySummaryView: Codable, Hashable, Sendable {
    public var arrayId: String
    public var tasks: Int
    public var limit: Int?
    /// State -> tasks in it.
    public var states: [String: Int]

    public init(arrayId: String, tasks: Int, limit: Int?, states: [String: Int]) {
        self.arrayId = arrayId
        self.tasks = tasks
        self.limit = limit
        self.states = states
    }
}

/// `POST /v1/jobs` with `array`: the array's id and its tasks' ids (`<array>_<index>`), all stored at once.
public struct ArraySubmitResponse: Codable, Hashable, Sendable {
    public var arrayId: String
    public var tasks: Int
    public var limit: Int?
    /// The task indices, in order.
    public var indices: [Int]

    public init(arrayId: String, tasks: Int, limit: Int?, indices: [Int]) {
        self.arrayId = arrayId
        self.tasks = tasks
        self.limit = limit
        self.indices = indices
    }
}

/// `POST /v1/jobs/{array}/cancel` for an array id: how many tasks the cancel reached.
public struct ArrayCancelResponse: Codable, Hashable, Sendable {
    public var arrayId: String
    public var canceled: Int
    public var alreadyFinished: Int

    public init(arrayId: String, canceled: Int, alreadyFinished: Int) {
        self.arrayId = arrayId
        self.canceled = canceled
        self.alreadyFinished = alreadyFinished
    }
}
