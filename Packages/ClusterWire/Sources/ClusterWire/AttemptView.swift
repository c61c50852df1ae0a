/// One attempt of a job, as `corral show` lists them.
public struct AttemptView: Codable, Hashable, Sendable {
    public var attempt: Int
    public var node: String
    public var gpuIndices: [Int]
    public var state: String?
    public var allocatedAt: String
    public var startedAt: String?
    public var endedAt: String?
    public var pid: Int32?
    public var exitCode: Int32?
    public var signal: String?
    /// OUT_OF_MEMORY or TIMEOUT, where that is how it ended.
    public var exitReason: String?
    public var message: String?
    public var usage: UsageReport?
    /// A gang attempt's ranks.
    public var ranks: [RankView]?
    /// The rank whose end stopped the gang.
    public var failedRank: Int?
    /// The job of a higher tier it was stopped for (its `state` is then PREEMPTED).
    public var preemptedBy: String?
}
