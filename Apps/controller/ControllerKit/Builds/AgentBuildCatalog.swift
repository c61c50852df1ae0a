import ClusterStore
import ClusterWire
import CorralSupport
import Dispatch
import Synchronization

/// The agent builds and the rollout on PostgreSQL (issue 19): the store of record every controller reads, so a
/// build published once is served by whichever controller leads, and a rollout under way goes on after a
/// failover. One connection, taken in turn; the leader's is fenced like its other writes (a deposed leader
/// cannot change the rollout), a standby's and `agents publish`'s are not.
final class AgentBuildCatalog: Sendable {
    private let database: Mutex<ClusterDatabase>
    private let log: any LogSink
    /// Where builds are copied into the data directory, one at a time.
    private let copying = DispatchQueue(label: "corral.controller.agent-builds")

    func serially<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in copying.async { continuation.resume(returning: body()) } }
    }

    init(database: sending ClusterDatabase, log: any LogSink) {
        self.database = Mutex(database)
        self.log = log
    }

    /// Every published build (empty, with the reason logged, when the database cannot be read).
    func builds() -> [AgentBuild] {
        do {
            let rows = try database.withLock { try $0.agentBuildDescriptions() }
            return rows.compactMap { row in
                guard let build = try? WireJSON.decode(AgentBuild.self, from: Array(row.description.utf8)),
                    build.sha256 == row.sha256
                else { return nil }
                return build
            }
        } catch {
            log.error("cannot read the agent builds from the database: \(error)")
            return []
        }
    }

    func binary(sha256: String) throws -> [UInt8]? {
        try database.withLock { try $0.agentBuildBinary(sha256: sha256) }
    }

    /// Decides among the stored builds and stores what was decided, in one transaction; one published at the
    /// same moment by another controller or command comes first or is refused by the table's keys.
    func publish(
        _ bytes: [UInt8],
        _ decide: @Sendable ([AgentBuild]) throws(AgentBuildStore.Failure) -> AgentBuildStore.Decision
    ) throws(AgentBuildStore.Failure) -> AgentBuildStore.Decision {
        do {
            return try database.withLock { database in
                try database.transaction {
                    let published = try database.agentBuildDescriptions().compactMap {
                        try? WireJSON.decode(AgentBuild.self, from: Array($0.description.utf8))
                    }
                    let decision = try decide(published)
                    let description = WireJSON.encodePretty(decision.build) + "\n"
                    switch decision {
                    case .unchanged: break
                    case .signed(let build):
                        try database.updateAgentBuildDescription(sha256: build.sha256, description: description)
                    case .new(let build):
                        try database.insertAgentBuild(
                            sha256: build.sha256,
                            version: build.version,
                            arch: build.arch,
                            description: description,
                            bytes: bytes
                        )
                    }
                    return decision
                }
            }
        } catch let failure as AgentBuildStore.Failure {
            throw failure
        } catch let error as StoreError where error.sqlState == "23505" {
            throw AgentBuildStore.Failure(
                "another build of this version or these bytes was published meanwhile: try again"
            )
        } catch {
            throw AgentBuildStore.Failure("cannot store the build in the database: \(error)")
        }
    }

    /// The rollout under way or last ended; nil before the first (or, logged, when it cannot be read).
    func rollout() -> RolloutView? {
        do {
            guard let text = try database.withLock({ try $0.agentRollout() }) else { return nil }
            return try WireJSON.decode(RolloutView.self, from: Array(text.utf8))
        } catch {
            log.error("cannot read the agent rollout from the database: \(error)")
            return nil
        }
    }

    func save(_ rollout: RolloutView) throws {
        let text = WireJSON.encodePretty(rollout)
        try database.withLock { try $0.saveAgentRollout(text) }
    }
}
