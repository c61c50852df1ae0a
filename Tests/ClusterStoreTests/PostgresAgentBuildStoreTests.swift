import ClusterStore
import Testing

/// Agent builds and the rollout in the database (PostgreSQL only: on SQLite they are files in the controller's
/// data directory), against a real server: bytes come back whole (every byte value, a NUL included), a second
/// build of the same version and architecture or of the same bytes is refused by the keys, a description is
/// replaced, and the one rollout row is written and rewritten.
@Suite struct PostgresAgentBuildStoreTests {
    @Test func buildsAndTheRolloutRoundTrip() throws {
        let db = try freshDatabase(.postgres)
        #expect(try db.agentBuildDescriptions().isEmpty && db.agentRollout() == nil)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) } + Array(0...255)
        try db.insertAgentBuild(sha256: "aa", version: "1.0.0", arch: "x86_64", description: "{\"a\":1}", bytes: bytes)
        try db.insertAgentBuild(sha256: "bb", version: "1.0.0", arch: "aarch64", description: "{}", bytes: [0])
        #expect(try db.agentBuildBinary(sha256: "aa") == bytes)
        #expect(try db.agentBuildBinary(sha256: "bb") == [0] && db.agentBuildBinary(sha256: "cc") == nil)
        #expect(try db.agentBuildDescriptions().map(\.sha256) == ["aa", "bb"])
        for (sha, version, arch) in [("cc", "1.0.0", "x86_64"), ("aa", "2.0.0", "x86_64")] {
            let error = #expect(throws: StoreError.self) {
                try db.insertAgentBuild(sha256: sha, version: version, arch: arch, description: "{}", bytes: [1])
            }
            #expect(error?.sqlState == "23505", "\(sha) \(version)")
        }
        try db.updateAgentBuildDescription(sha256: "aa", description: "{\"signed\":true}")
        #expect(try db.agentBuildDescriptions().first?.description == "{\"signed\":true}")
        try db.saveAgentRollout("{\"id\":\"r1\"}")
        try db.saveAgentRollout("{\"id\":\"r2\"}")
        #expect(try db.agentRollout() == "{\"id\":\"r2\"}")
    }
}
