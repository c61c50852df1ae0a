import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import HTTPKit

/// User tokens (create, list, revoke, who am I) and cutting a node off.
extension ClusterState {
    /// A new token for `user`, shown once; only its hash is kept.
    func createToken(user: String, kind: CredentialKind, expiresIn: Int?) throws -> (String, Credential) {
        let token = SecureRandom.token(prefix: "cru_", bytes: 24)
        var credential = Credential(
            hash: Digest.sha256Hex(token),
            prefix: String(token.prefix(12)),
            kind: kind,
            subject: user,
            createdAt: clock.now()
        )
        credential.expiresAt = expiresIn.map { clock.now() + .seconds($0) }
        try database.saveCredential(credential)
        credentials[credential.hash] = credential
        return (token, credential)
    }

    /// User and admin tokens, newest first (agents' node tokens and the join token are not listed).
    func tokenViews() -> [TokenView] {
        credentials.values.filter { $0.kind == .user || $0.kind == .admin }
            .sorted { ($0.createdAt, $0.prefix) > ($1.createdAt, $1.prefix) }
            .map(Self.view)
    }

    static func view(_ credential: Credential) -> TokenView {
        TokenView(
            prefix: credential.prefix,
            user: credential.subject,
            role: credential.kind.rawValue,
            createdAt: WireTime.format(credential.createdAt),
            lastUsedAt: credential.lastUsedAt.map(WireTime.format),
            expiresAt: credential.expiresAt.map(WireTime.format),
            revoked: credential.revoked
        )
    }

    /// Revokes the user or admin token with this visible prefix. Idempotent.
    func revokeToken(prefix: String) throws -> TokenView {
        let matches = credentials.values.filter { ($0.kind == .user || $0.kind == .admin) && $0.prefix == prefix }
        guard var credential = matches.first else {
            throw APIError(
                .notFound,
                "token_not_found",
                "no token with prefix '\(prefix.prefix(32))': see corral tokens list"
            )
        }
        guard matches.count == 1 else {
            throw APIError(.conflict, "ambiguous_prefix", "\(matches.count) tokens share the prefix \(prefix)")
        }
        credential.revoked = true
        try database.saveCredential(credential)
        credentials[credential.hash] = credential
        return Self.view(credential)
    }

    func whoami(token: String?) -> WhoAmIResponse? {
        guard let token, let credential = credentials[Digest.sha256Hex(token)] else { return nil }
        return WhoAmIResponse(
            user: credential.subject,
            role: credential.kind.rawValue,
            tokenPrefix: credential.prefix,
            expiresAt: credential.expiresAt.map(WireTime.format)
        )
    }

    /// Cuts a node off: its token stops working, it may not register again until resumed, and its jobs are
    /// handled as on a lost node.
    func revokeNode(_ id: NodeID, by user: String) throws -> NodeView {
        guard var node = nodes[id] else { throw APIError.nodeNotFound(id.rawValue) }
        try revokeCredentials(kind: .node, subject: id.rawValue)
        node.revoked = true
        try database.saveNode(node)
        nodes[id] = node
        log.warning("node \(id) revoked by \(user)")
        if node.status != .lost { markLost(id, at: clock.now()) }
        return nodeView(nodes[id] ?? node)
    }

    /// Writes the last-use times of credentials now and then (not on every request).
    func persistCredentialUse() {
        guard !usedCredentials.isEmpty else { return }
        let hashes = usedCredentials
        usedCredentials = []
        do {
            try database.transaction {
                for hash in hashes { if let credential = credentials[hash] { try database.saveCredential(credential) } }
            }
        } catch {
            log.error("cannot record token use: \(error)")
        }
    }
}
