public import ClusterCore

/// An allocation whose resources are held on a node: placed, starting, running, or stopping after a cancel
/// until the agent says the process is gone. The scheduler sees all of these as taken.
struct LiveAllocation: Hashable, Sendable {
    let id: AllocationID
    let node: NodeID
    let gpuIndices: [Int]
    let resources: Resources
    let allocatedAt: Timestamp
    /// The launch was handed to the agent (by a long poll).
    var delivered: Bool
    /// When the controller asked the agent to stop it (cancel, lease expiry), if it did.
    var stopRequestedAt: Timestamp?
    /// The stop request went out in a long-poll answer (heartbeat answers always repeat it).
    var stopDelivered: Bool = false
    /// The last time the agent showed it still holds this allocation (delivery, a report, a heartbeat listing
    /// it). A job on a silent node is retried elsewhere only once this is older than the allocation lease: by
    /// then the agent has fenced it (stopped it itself), so two copies never run at once.
    var leaseRenewedAt: Timestamp

}

/// Who is calling, from their bearer token.
public struct Principal: Hashable, Sendable {
    public let kind: CredentialKind
    public let subject: String

    public var isAdmin: Bool { kind == .admin }
    public var isUser: Bool { kind == .user || kind == .admin }
}
