public import ClusterCore

/// `PATCH /v1/jobs/{id}` (`corral update`): the fields to change; absent ones stay.
public struct JobUpdateRequest: Codable, Hashable, Sendable {
    /// Seconds.
    public var timeLimit: Int?
    public var priority: Int?

    public init(timeLimit: Int? = nil, priority: Int? = nil) {
        self.timeLimit = timeLimit
        self.priority = priority
    }

    private enum CodingKeys: String, CodingKey { case timeLimit, priority }

    /// Unknown fields are refused: `{"timelimit": 60}` must not be a silent no-op.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(allowed: ["timeLimit", "priority"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timeLimit = try c.decodeWholeNumber(forKey: .timeLimit)
        priority = try c.decodeWholeNumber(forKey: .priority)
    }
}

/// `POST /v1/jobs/{id}/requeue`: an optional body; `hold` keeps the job held once back in the queue (Slurm's
/// `scontrol requeuehold`).
public struct RequeueRequest: Codable, Hashable, Sendable {
    public var hold: Bool?

    public init(hold: Bool? = nil) { self.hold = hold }

    private enum CodingKeys: String, CodingKey { case hold }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(allowed: ["hold"])
        hold = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Bool.self, forKey: .hold)
    }
}

/// A job-control request on an array: how many of its tasks it changed, and how many it skipped (finished,
/// or not in a state it applies to).
public struct ArrayControlResponse: Codable, Hashable, Sendable {
    public var arrayId: String
    /// hold, release, requeue or update.
    public var action: String
    public var changed: Int
    public var skipped: Int

    public init(arrayId: String, action: String, changed: Int, skipped: Int) {
        self.arrayId = arrayId
        self.action = action
        self.changed = changed
        self.skipped = skipped
    }
}

/// A running job whose GPUs are flagged idle, in `JobView` (issue 17).
public struct IdleView: Codable, Hashable, Sendable {
    public var since: String
    /// Its GPUs' mean utilization over the idle window, percent.
    public var meanUtilization: Double

    public init(_ mark: IdleMark) {
        since = WireTime.format(mark.since)
        meanUtilization = (mark.meanPercent * 10).rounded() / 10
    }
}

/// `GET /v1/nodes/{id}/utilization`: the node's GPU utilization over the last hour, per GPU, oldest first;
/// one point per bucket with a figure (the mean of the heartbeats in it).
public struct NodeUtilizationResponse: Codable, Hashable, Sendable {
    public struct Point: Codable, Hashable, Sendable {
        public var at: String
        public var percent: Double
    }

    public struct GPUSeries: Codable, Hashable, Sendable {
        public var index: Int
        public var points: [Point]
    }

    public var node: String
    public var bucketSeconds: Double
    public var gpus: [GPUSeries]

    public init(node: String, history: UtilizationHistory?) {
        self.node = node
        bucketSeconds = Double((history?.bucket ?? .seconds(30)).milliseconds) / 1000
        gpus = (history?.gpus ?? []).map { index in
            GPUSeries(
                index: index,
                points: (history?.buckets ?? []).compactMap { bucket in
                    bucket.mean(gpu: index).map {
                        Point(at: WireTime.format(bucket.start), percent: ($0 * 10).rounded() / 10)
                    }
                }
            )
        }
    }
}

/// A held job's hold, in `JobView`.
public struct HoldView: Codable, Hashable, Sendable {
    public var by: String
    /// Held by an admin: only an admin can release it.
    public var admin: Bool
    public var at: String

    public init(_ hold: JobHold) {
        by = hold.by
        admin = hold.byAdmin
        at = WireTime.format(hold.at)
    }
}
