import ClusterCore

/// A gang attempt's ranks in the attempts table's `gang` column (NULL for one-node attempts).
struct StoredGang: Codable {
    struct Rank: Codable {
        var rank: Int
        var node: String
        var gpus: [Int]
        var accepted: Bool
        var startedAt: Int64?
        var endedAt: Int64?
        var pid: Int32?
        var exitCode: Int32?
        var signal: Int32?
        var message: String?
        var timedOut: Bool?
        var outOfMemory: Bool?
        /// "exited", "launch_failed", "fenced", or nil when it ended without a report.
        var endKind: String?
        var usage: StoredUsage?
    }

    var port: Int?
    var failedRank: Int?
    var ranks: [Rank]

    init(_ attempt: Attempt) {
        port = attempt.masterPort
        failedRank = attempt.failedRank
        ranks = attempt.ranks.map { run in
            Rank(
                rank: run.rank,
                node: run.node.rawValue,
                gpus: run.gpuIndices,
                accepted: run.accepted,
                startedAt: run.startedAt?.milliseconds,
                endedAt: run.endedAt?.milliseconds,
                pid: run.pid,
                exitCode: run.exit?.code,
                signal: run.exit?.signal,
                message: run.exit?.message,
                timedOut: run.exit?.timedOut,
                outOfMemory: run.exit?.outOfMemory,
                endKind: run.endKind.map(Self.name),
                usage: run.usage.map(StoredUsage.init)
            )
        }
    }

    func apply(to attempt: inout Attempt) {
        attempt.masterPort = port
        attempt.failedRank = failedRank
        attempt.ranks = ranks.map { stored in
            var run = RankRun(rank: stored.rank, node: NodeID(stored.node), gpuIndices: stored.gpus)
            run.accepted = stored.accepted
            run.startedAt = stored.startedAt.map(Timestamp.init(milliseconds:))
            run.endedAt = stored.endedAt.map(Timestamp.init(milliseconds:))
            run.pid = stored.pid
            if stored.exitCode != nil || stored.signal != nil || stored.message != nil || stored.timedOut == true {
                run.exit = JobExit(
                    code: stored.exitCode,
                    signal: stored.signal,
                    message: stored.message,
                    timedOut: stored.timedOut ?? false,
                    outOfMemory: stored.outOfMemory ?? false
                )
            }
            run.endKind = stored.endKind.flatMap(Self.kind)
            run.usage = stored.usage?.usage
            return run
        }
    }

    static func name(_ kind: AttemptEnd.Kind) -> String {
        switch kind {
        case .exited: "exited"
        case .launchFailed: "launch_failed"
        case .fenced: "fenced"
        case .nodeFault: "node_fault"
        }
    }

    static func kind(_ name: String) -> AttemptEnd.Kind? {
        switch name {
        case "exited": .exited
        case "launch_failed": .launchFailed
        case "fenced": .fenced
        case "node_fault": .nodeFault
        default: nil
        }
    }
}

/// `ArrayTask` in the jobs table's `array_task` column.
struct StoredArrayTask: Codable {
    var array: String
    var index: Int
    var count: Int
    var limit: Int?

    init(_ task: ArrayTask) {
        array = task.array.rawValue
        index = task.index
        count = task.count
        limit = task.limit
    }

    var task: ArrayTask { ArrayTask(array: JobID(array), index: index, count: count, limit: limit) }

    /// The same JSON `StoredSpec.encode` writes (sorted keys), without the encoder: one per task of an array of
    /// up to 10,000 is written in one transaction. Job ids need no escaping (letters, digits, '-', '_' only).
    static func json(_ task: ArrayTask) throws(StoreError) -> String {
        guard JobID.isValid(task.array.rawValue) else { return try StoredSpec.encode(StoredArrayTask(task)) }
        let limit = task.limit.map { ",\"limit\":\($0)" } ?? ""
        return "{\"array\":\"\(task.array.rawValue)\",\"count\":\(task.count),\"index\":\(task.index)\(limit)}"
    }
}
