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
