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
