/// An agent build the controller serves for self-update (`corral-controller agents publish`,
/// `GET /v1/agent-builds`): the binary for one architecture, named by the version it was published as, and
/// known by its SHA-256, which an agent checks before it installs it.
public struct AgentBuild: Codable, Hashable, Sendable {
    public var version: String
    /// `x86_64` or `aarch64` (read from the binary's ELF header when published).
    public var arch: String
    /// 64 lowercase hex digits.
    public var sha256: String
    public var size: Int64
    public var publishedAt: String
    /// The Ed25519 signature of the binary (base64), made by the operator's key (`openssl pkeyutl -sign
    /// -rawin`): agents configured with `update_public_key` install only builds it verifies.
    public var signature: String?

    public init(
        version: String,
        arch: String,
        sha256: String,
        size: Int64,
        publishedAt: String,
        signature: String? = nil
    ) {
        self.signature = signature
        self.version = version
        self.arch = arch
        self.sha256 = sha256
        self.size = size
        self.publishedAt = publishedAt
    }

    /// 64 lowercase hex digits.
    public static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit (`1.4.0`, `2026.12.04-rc1`).
    public static func isValidVersion(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 64, isAlphanumeric(first) else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2B || $0 == 0x2D }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// The architectures the agent is built for, as `uname -m` names them.
    public static let architectures = ["x86_64", "aarch64"]
}

/// `GET /v1/agent-builds`: newest first.
public struct AgentBuildList: Codable, Hashable, Sendable {
    public var builds: [AgentBuild]

    public init(builds: [AgentBuild]) { self.builds = builds }
}

/// A rolling update of the agents (`corral nodes update`, `POST /v1/agent-rollout`): every node (or the ones
/// named) is told in turn, at most `maxParallel` at once, to install the build of `version` and restart.
public struct RolloutRequest: Codable, Hashable, Sendable {
    /// A published version; nil: the newest one.
    public var version: String?
    /// How many nodes update at once (1-1000, default 1).
    public var maxParallel: Int?
    /// The nodes to update, in this order; nil: every node, by id.
    public var nodes: [String]?

    public init(version: String? = nil, maxParallel: Int? = nil, nodes: [String]? = nil) {
        self.version = version
        self.maxParallel = maxParallel
        self.nodes = nodes
    }

    enum CodingKeys: String, CodingKey { case version, maxParallel, nodes }

    /// Strict: a misspelt field (`max_paralel`) is refused, not ignored into a one-at-a-time rollout.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(allowed: ["version", "maxParallel", "nodes"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(String.self, forKey: .version)
        maxParallel = try container.decodeIfPresent(Int.self, forKey: .maxParallel)
        nodes = try container.decodeIfPresent([String].self, forKey: .nodes)
    }
}

/// A rollout and where each of its nodes is.
public struct RolloutView: Codable, Hashable, Sendable {
    public var id: String
    public var version: String
    public var maxParallel: Int
    /// `running`, `done`, `failed` (a node failed: no other node is started) or `aborted`.
    public var state: String
    public var startedAt: String
    public var startedBy: String
    public var finishedAt: String?
    public var nodes: [RolloutNode]

    public init(
        id: String,
        version: String,
        maxParallel: Int,
        state: String,
        startedAt: String,
        startedBy: String,
        finishedAt: String? = nil,
        nodes: [RolloutNode]
    ) {
        self.id = id
        self.version = version
        self.maxParallel = maxParallel
        self.state = state
        self.startedAt = startedAt
        self.startedBy = startedBy
        self.finishedAt = finishedAt
        self.nodes = nodes
    }
}

public struct RolloutNode: Codable, Hashable, Sendable {
    public var node: String
    /// `waiting`, `updating`, `done`, `failed` or `skipped` (not READY at its turn).
    public var phase: String
    /// The version it ran when its turn came.
    public var from: String?
    public var message: String?
    public var startedAt: String?
    public var endedAt: String?

    public init(
        node: String,
        phase: String,
        from: String? = nil,
        message: String? = nil,
        startedAt: String? = nil,
        endedAt: String? = nil
    ) {
        self.node = node
        self.phase = phase
        self.from = from
        self.message = message
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

/// In a heartbeat's answer: install the build of `version` and restart onto it (once per rollout: a failure is
/// reported in the next heartbeat's `update_error`, and not retried until another rollout asks).
public struct AgentUpdateOrder: Codable, Hashable, Sendable {
    public var rollout: String
    public var version: String

    public init(rollout: String, version: String) {
        self.rollout = rollout
        self.version = version
    }
}
