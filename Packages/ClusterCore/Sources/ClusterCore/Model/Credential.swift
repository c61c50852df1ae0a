/// What a bearer token lets its holder be.
public enum CredentialKind: String, CaseIterable, Hashable, Sendable {
    /// A person or script: sees and cancels their own jobs.
    case user
    /// An operator: everything.
    case admin
    /// The cluster join token: good only for registering an agent.
    case cluster
    /// One node's own token, returned at registration: good only for that node's agent calls.
    case node
}

/// A stored credential. The token itself is never stored: only its SHA-256 and a short visible prefix.
public struct Credential: Hashable, Sendable {
    public var hash: String
    public var prefix: String
    public var kind: CredentialKind
    /// The user it acts as (for user and admin tokens), or the node id (for node tokens).
    public var subject: String
    public var createdAt: Timestamp
    public var expiresAt: Timestamp?
    public var revoked: Bool
    /// When it last authenticated a request (kept in memory, written now and then).
    public var lastUsedAt: Timestamp?
    /// The Unix account the holder's jobs run as (user and admin tokens); nil: the controller's mapping, or the
    /// account of the user's own name.
    public var unixUser: String?

    public init(
        hash: String,
        prefix: String,
        kind: CredentialKind,
        subject: String,
        createdAt: Timestamp,
        expiresAt: Timestamp? = nil,
        revoked: Bool = false
    ) {
        self.hash = hash
        self.prefix = prefix
        self.kind = kind
        self.subject = subject
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revoked = revoked
    }

    public func isUsable(at now: Timestamp) -> Bool {
        !revoked && (expiresAt.map { now < $0 } ?? true)
    }
}
