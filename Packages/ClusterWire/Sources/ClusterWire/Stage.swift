/// One `stage` entry of `POST /v1/jobs`: `{"source": "/nfs/models/llama", "name": "MODEL"}`; without a name,
/// the source's last component in capitals (`StageSource.defaultName`).
public struct StageRequest: Codable, Hashable, Sendable {
    public var source: String
    public var name: String?
    /// Check the copy by SHA-256 of every file, not by size and modification time.
    public var checksum: Bool?

    public init(source: String, name: String? = nil, checksum: Bool? = nil) {
        self.source = source
        self.name = name
        self.checksum = checksum
    }

    enum CodingKeys: String, CodingKey { case source, name, checksum }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(allowed: ["source", "name", "checksum"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(String.self, forKey: .source)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        checksum = try container.decodeIfPresent(Bool.self, forKey: .checksum)
    }
}

/// What the agent reports of its stage cache in each heartbeat, and node views show.
public struct StageCacheReport: Codable, Hashable, Sendable {
    /// Bytes the cached copies take, and the most they may.
    public var used: Int64
    public var limit: Int64
    public var entries: Int
    /// Of the entries, those a running job uses.
    public var inUse: Int

    public init(used: Int64, limit: Int64, entries: Int, inUse: Int) {
        self.used = used
        self.limit = limit
        self.entries = entries
        self.inUse = inUse
    }
}
