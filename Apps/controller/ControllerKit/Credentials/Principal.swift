public import ClusterCore

/// Who is calling, from their bearer token.
public struct Principal: Hashable, Sendable {
    public let kind: CredentialKind
    public let subject: String

    public var isAdmin: Bool { kind == .admin }
    public var isUser: Bool { kind == .user || kind == .admin }
}
