import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import HTTPKit
import Synchronization

/// Tokens: who may call, checked on every request without a hop to the cluster state (a lock-protected map of
/// token hashes), and written through to the database on their own connection and queue (creating, revoking,
/// and now and then the last-use times), so authentication never waits behind job work.
actor CredentialStore {
    let executor = DispatchSerialExecutor(label: "corral.controller.credentials")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    enum Failure: Error, Sendable {
        case tokenNotFound(String)
        case ambiguousPrefix(String, count: Int)
    }

    private struct Cache {
        var byHash: [String: Credential] = [:]
        /// Hashes by kind and subject (a node's tokens), so registering a node does not scan every credential.
        var bySubject: [String: Set<String>] = [:]
        /// Credentials used since their last-use time was last written.
        var used: Set<String> = []

        static func key(_ kind: CredentialKind, _ subject: String) -> String { "\(kind.rawValue):\(subject)" }

        mutating func put(_ credential: Credential) {
            byHash[credential.hash] = credential
            bySubject[Self.key(credential.kind, credential.subject), default: []].insert(credential.hash)
        }
    }

    private let database: ClusterDatabase
    private let cache: Mutex<Cache>
    private nonisolated let clock: any WallClock
    private let log: any LogSink

    init(database: ClusterDatabase, clock: any WallClock, log: any LogSink) throws {
        self.database = database
        self.clock = clock
        self.log = log
        var cache = Cache()
        for credential in try database.loadCredentials() { cache.put(credential) }
        self.cache = Mutex(cache)
    }

    /// Reads every credential again (a standby, whose leader creates and revokes tokens meanwhile).
    func reload() throws {
        let credentials = try database.loadCredentials()
        cache.withLock { cache in for credential in credentials { cache.put(credential) } }
    }

    /// The principal a token stands for, if it is usable now.
    nonisolated func authenticate(_ token: String?) -> Principal? {
        guard let token, !token.isEmpty, token.utf8.count <= 256 else { return nil }
        let hash = Digest.sha256Hex(token)
        let now = clock.now()
        return cache.withLock { cache -> Principal? in
            guard let credential = cache.byHash[hash], credential.isUsable(at: now) else { return nil }
            // Kept in memory; `persistUse` writes it now and then, so a request costs no write.
            if credential.kind == .user || credential.kind == .admin {
                cache.byHash[hash]?.lastUsedAt = now
                cache.used.insert(hash)
            }
            return Principal(kind: credential.kind, subject: credential.subject, unixUser: credential.unixUser)
        }
    }

    /// The holder of a user or admin token; nil for anything else (a node's token or the join token is no
    /// person's, and says nothing here).
    nonisolated func whoami(token: String?) -> WhoAmIResponse? {
        guard authenticate(token) != nil, let token else { return nil }
        let credential = cache.withLock { $0.byHash[Digest.sha256Hex(token)] }
        return credential.flatMap { $0.kind == .user || $0.kind == .admin ? $0 : nil }.map {
            WhoAmIResponse(
                user: $0.subject,
                role: $0.kind.rawValue,
                tokenPrefix: $0.prefix,
                expiresAt: $0.expiresAt.map(WireTime.format)
            )
        }
    }

    /// User and admin tokens, newest first (agents' node tokens and the join token are not listed).
    nonisolated func tokenViews() -> [TokenView] {
        cache.withLock { Array($0.byHash.values) }.filter { $0.kind == .user || $0.kind == .admin }
            .sorted { ($0.createdAt, $0.prefix) > ($1.createdAt, $1.prefix) }
            .map(Self.view)
    }

    /// A new token, shown once; only its hash is kept.
    func createToken(
        user: String,
        kind: CredentialKind,
        expiresIn: Int?,
        unixUser: String? = nil
    ) throws -> (String, Credential) {
        let token = SecureRandom.token(prefix: kind == .node ? "crn_" : "cru_", bytes: 24)
        var credential = Credential(
            hash: Digest.sha256Hex(token),
            prefix: String(token.prefix(12)),
            kind: kind,
            subject: user,
            createdAt: clock.now()
        )
        credential.expiresAt = expiresIn.map { clock.now() + .seconds($0) }
        credential.unixUser = unixUser
        try save([credential])
        return (token, credential)
    }

    /// Whether the node has a token that is not revoked (its agent holds it, or held it).
    nonisolated func hasLiveToken(node: NodeID) -> Bool {
        cache.withLock { cache in
            (cache.bySubject[Cache.key(.node, node.rawValue)] ?? []).contains { cache.byHash[$0]?.revoked == false }
        }
    }

    /// A node's new token: a node has one valid token at a time, so issuing one revokes the others.
    func issueNodeToken(for node: NodeID) throws -> String {
        let token = SecureRandom.token(prefix: "crn_", bytes: 24)
        let issued = Credential(
            hash: Digest.sha256Hex(token),
            prefix: String(token.prefix(12)),
            kind: .node,
            subject: node.rawValue,
            createdAt: clock.now()
        )
        try save(revoked(kind: .node, subject: node.rawValue) + [issued])
        return token
    }

    /// Makes sure a token read from a file at start is known (the database may be new). For the join token,
    /// the file is the truth: any other join token is revoked, so replacing the file rotates it.
    func ensure(token: String, kind: CredentialKind, subject: String) throws {
        let hash = Digest.sha256Hex(token)
        var changed: [Credential] = []
        let known = cache.withLock { $0.byHash }
        if kind == .cluster {
            for var credential in known.values where credential.kind == .cluster {
                let shouldBeRevoked = credential.hash != hash
                guard credential.revoked != shouldBeRevoked else { continue }
                credential.revoked = shouldBeRevoked
                changed.append(credential)
            }
        }
        if known[hash] == nil {
            changed.append(
                Credential(
                    hash: hash,
                    prefix: String(token.prefix(12)),
                    kind: kind,
                    subject: subject,
                    createdAt: clock.now()
                )
            )
        }
        try save(changed)
    }

    /// Revokes every credential of a kind and subject (a node's token when an admin revokes the node).
    func revoke(kind: CredentialKind, subject: String) throws {
        try save(revoked(kind: kind, subject: subject))
    }

    /// Revokes the user or admin token with this visible prefix. Idempotent.
    func revokeToken(prefix: String) throws -> TokenView {
        let matches = cache.withLock { Array($0.byHash.values) }.filter {
            ($0.kind == .user || $0.kind == .admin) && $0.prefix == prefix
        }
        guard var credential = matches.first else { throw Failure.tokenNotFound(prefix) }
        guard matches.count == 1 else { throw Failure.ambiguousPrefix(prefix, count: matches.count) }
        credential.revoked = true
        try save([credential])
        return Self.view(credential)
    }

    /// Writes the last-use times of credentials now and then (not on every request).
    func persistUse() {
        let used = cache.withLock { cache -> [Credential] in
            defer { cache.used = [] }
            return cache.used.compactMap { cache.byHash[$0] }
        }
        guard !used.isEmpty else { return }
        do {
            try database.transaction { for credential in used { try database.saveCredential(credential) } }
        } catch {
            log.error("cannot record token use: \(error)")
        }
    }

    private func revoked(kind: CredentialKind, subject: String) -> [Credential] {
        cache.withLock { cache in
            (cache.bySubject[Cache.key(kind, subject)] ?? []).compactMap { cache.byHash[$0] }
        }
        .filter { !$0.revoked }
        .map {
            var credential = $0
            credential.revoked = true
            return credential
        }
    }

    /// Stores the credentials in one transaction, then puts them in the map.
    private func save(_ credentials: [Credential]) throws {
        guard !credentials.isEmpty else { return }
        try database.transaction { for credential in credentials { try database.saveCredential(credential) } }
        cache.withLock { cache in for credential in credentials { cache.put(credential) } }
    }

    static func view(_ credential: Credential) -> TokenView {
        TokenView(
            prefix: credential.prefix,
            user: credential.subject,
            role: credential.kind.rawValue,
            createdAt: WireTime.format(credential.createdAt),
            lastUsedAt: credential.lastUsedAt.map(WireTime.format),
            expiresAt: credential.expiresAt.map(WireTime.format),
            revoked: credential.revoked,
            unixUser: credential.unixUser
        )
    }
}
