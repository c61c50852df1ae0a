/// Who asks for a change to a job, as the lifecycle's rules need to know them: users may only make their own
/// jobs wait longer or ask for less; admins may do anything.
public struct Requester: Hashable, Sendable {
    public var name: String
    public var isAdmin: Bool

    public init(_ name: String, isAdmin: Bool) {
        self.name = name
        self.isAdmin = isAdmin
    }
}

/// A hold on a QUEUED job (`corral hold`, Slurm's `scontrol hold`): the scheduler passes it over, reason
/// `Held`, until it is released. An admin's hold is released only by an admin, so an operator can keep a job
/// back whatever its owner does.
public struct JobHold: Hashable, Sendable {
    public var by: String
    public var byAdmin: Bool
    public var at: Timestamp

    public init(by: String, byAdmin: Bool, at: Timestamp) {
        self.by = by
        self.byAdmin = byAdmin
        self.at = at
    }
}

/// `corral update JOB --time-limit T --priority N`: the fields that change; nil ones stay.
public struct JobUpdate: Hashable, Sendable {
    /// Seconds.
    public var timeLimit: Int?
    public var priority: Int?

    public init(timeLimit: Int? = nil, priority: Int? = nil) {
        self.timeLimit = timeLimit
        self.priority = priority
    }

    public var isEmpty: Bool { timeLimit == nil && priority == nil }
}
