public import ClusterCore

/// Who is calling, from their bearer token.
public struct Principal: Hashable, Sendable {
    public let kind: CredentialKind
    public let subject: String
    /// The Unix account its token maps its user to, if the token says.
    public var unixUser: String? = nil

    public var isAdmin: Bool { kind == .admin }
    public var isUser: Bool { kind == .user || kind == .admin }
}
