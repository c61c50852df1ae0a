/// Agent builds and the rollout under way in the database (PostgreSQL only: every controller that may lead
/// serves the same builds and carries the same rollout on; with SQLite's one controller they are files in its data
/// directory, `AgentBuildStore`). A build is its description (build.json, as the controller writes it) and its
/// bytes; the caller decides what may be published (`AgentBuildStore.decide`).
extension ClusterDatabase {
    /// Every published build's SHA-256 and description, without the bytes.
    public func agentBuildDescriptions() throws(StoreError) -> [(sha256: String, description: String)] {
        try connection.query("SELECT sha256, build FROM agent_builds ORDER BY sha256").map { row in
            (row.string("sha256") ?? "", row.string("build") ?? "")
        }
    }

    /// A build's bytes; nil when there is no such build.
    public func agentBuildBinary(sha256: String) throws(StoreError) -> [UInt8]? {
        try connection.queryOne("SELECT binary_data FROM agent_builds WHERE sha256 = ?", [.text(sha256)])?
            .blob("binary_data")
    }

    /// Stores a new build. A second of the same version and architecture, or of the same bytes, is refused by
    /// the table's keys (the caller checks first, in the same transaction, to say why).
    public func insertAgentBuild(
        sha256: String,
        version: String,
        arch: String,
        description: String,
        bytes: [UInt8]
    ) throws(StoreError) {
        try connection.run(
            "INSERT INTO agent_builds (sha256, version, arch, build, binary_data) VALUES (?, ?, ?, ?, ?)",
            [.text(sha256), .text(version), .text(arch), .text(description), .blob(bytes)]
        )
    }

    /// A build's description again (a signature added later).
    public func updateAgentBuildDescription(sha256: String, description: String) throws(StoreError) {
        try connection.run("UPDATE agent_builds SET build = ? WHERE sha256 = ?", [.text(description), .text(sha256)])
    }

    /// The rollout under way or last ended (its JSON), nil before the first.
    public func agentRollout() throws(StoreError) -> String? {
        try connection.queryOne("SELECT rollout FROM agent_rollout WHERE one = 1")?.string("rollout")
    }

    public func saveAgentRollout(_ rollout: String) throws(StoreError) {
        try connection.run(
            "INSERT INTO agent_rollout (one, rollout) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET rollout = excluded.rollout",
            [.text(rollout)]
        )
    }
}
