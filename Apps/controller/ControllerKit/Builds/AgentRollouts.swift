import ClusterCore
import ClusterWire
import CorralSupport
import Glibc
import HTTPKit

/// The rolling agent update in progress (or the last one), kept in DATA_DIR/agent-builds/rollout.json (on
/// PostgreSQL in the database, `AgentBuildCatalog`) so a restarted controller, or the next leader, goes on with it. `RolloutRules` decides; this actor feeds it what the nodes say, at
/// most once a second while a rollout runs (a heartbeat asks; with thousands of nodes most find it fresh), and
/// stores each change before anyone is told of it.
actor AgentRollouts {
    let store: AgentBuildStore
    let state: ClusterState
    let clock: any WallClock
    let log: any LogSink
    private var current: RolloutView?
    /// Update errors agents reported, by node, for the rollout running now.
    private var failures: [String: String] = [:]
    private var advancedAt: Timestamp?

    var path: String { store.directory + "/rollout.json" }

    init(store: AgentBuildStore, state: ClusterState, clock: any WallClock, log: any LogSink) {
        self.store = store
        self.state = state
        self.clock = clock
        self.log = log
        if let catalog = store.catalog {
            current = catalog.rollout()
        } else if let text = try? Files.read(store.directory + "/rollout.json", limit: 16 << 20) {
            current = try? WireJSON.decode(RolloutView.self, from: Array(text.utf8))
        }
    }

    func view() async -> RolloutView? {
        await refresh(force: false)
        return current
    }

    func start(_ request: RolloutRequest, by user: String) async throws -> RolloutView {
        if let current, current.state == "running" {
            throw APIError(
                .conflict,
                "rollout_running",
                "a rollout to \(current.version) is running: wait for it, or abort it (corral nodes update --abort)"
            )
        }
        let maxParallel = request.maxParallel ?? 1
        guard (1...1000).contains(maxParallel) else {
            throw APIError.badRequest("must be 1-1000", field: "max_parallel")
        }
        let builds = store.list()
        let version: String
        if let asked = request.version {
            guard AgentBuild.isValidVersion(asked) else {
                throw APIError.badRequest("is not a version", field: "version")
            }
            guard builds.contains(where: { $0.version == asked }) else {
                throw APIError.badRequest(
                    "no agent build of version \(asked) is published (corral-controller agents publish)",
                    field: "version"
                )
            }
            version = asked
        } else {
            guard let newest = builds.first else {
                throw APIError.badRequest(
                    "no agent build is published (corral-controller agents publish FILE --version V)"
                )
            }
            version = newest.version
        }
        let known = await state.nodes.keys.map(\.rawValue).sorted()
        let names: [String]
        if let asked = request.nodes {
            guard !asked.isEmpty, asked.count <= 10000, Set(asked).count == asked.count else {
                throw APIError.badRequest("name each node once, 1-10000 of them", field: "nodes")
            }
            let unknown = asked.filter { !known.contains($0) }
            guard unknown.isEmpty else {
                throw APIError.badRequest(
                    "unknown node(s): \(unknown.prefix(5).map { String($0.prefix(64)) }.joined(separator: ", "))",
                    field: "nodes"
                )
            }
            names = asked
        } else {
            guard !known.isEmpty else { throw APIError.badRequest("there are no nodes to update") }
            names = known
        }
        let now = clock.now()
        let rollout = RolloutRules.start(
            id: SecureRandom.token(prefix: "ro_", bytes: 6),
            version: version,
            maxParallel: maxParallel,
            nodes: names,
            by: user,
            now: now
        )
        let facts = await facts(of: rollout)
        // Another start may have run while the facts were gathered (the actor is reentrant at each await).
        if let current, current.state == "running" {
            throw APIError(.conflict, "rollout_running", "a rollout to \(current.version) is running")
        }
        failures = [:]
        try save(RolloutRules.advance(rollout, facts: facts, now: now))
        log.info(
            "agent rollout \(rollout.id) to \(version) started by \(user): \(names.count) node(s), \(maxParallel) at once"
        )
        return current ?? rollout
    }

    func abort(by user: String) async throws -> RolloutView {
        guard let current, current.state == "running" else {
            throw APIError(.conflict, "no_rollout", "no rollout is running")
        }
        try save(RolloutRules.abort(current, now: clock.now()))
        log.info("agent rollout \(current.id) aborted by \(user)")
        return self.current ?? current
    }

    /// A node's heartbeat: what its agent reported of an update, and the order it gets.
    func heartbeat(node: NodeID, updateError: String?) async -> AgentUpdateOrder? {
        guard current?.state == "running" else { return nil }
        if let updateError {
            failures[node.rawValue] = updateError
            log.warning("agent update on \(node) failed: \(updateError.prefix(300))")
        }
        await refresh(force: updateError != nil)
        return RolloutRules.order(current, node: node.rawValue)
    }

    private func refresh(force: Bool) async {
        guard let rollout = current, rollout.state == "running" else { return }
        let now = clock.now()
        if !force, let advancedAt, now - advancedAt < .seconds(1) { return }
        advancedAt = now
        let facts = await facts(of: rollout)
        // An abort or a new rollout while the facts were gathered wins: this pass's result is of the old one.
        guard current == rollout else { return }
        let next = RolloutRules.advance(rollout, facts: facts, failures: failures, now: now)
        guard next != rollout else { return }
        do {
            try save(next)
        } catch {
            log.error("cannot store the agent rollout: \(error)")
            return
        }
        if next.state != "running" { log.info("agent rollout \(next.id) to \(next.version): \(next.state)") }
    }

    private func facts(of rollout: RolloutView) async -> [String: RolloutRules.NodeFacts] {
        let versions = Dictionary(store.list().map { ($0.sha256, $0.version) }) { first, _ in first }
        return await state.rolloutFacts(Set(rollout.nodes.map(\.node)), publishedVersions: versions)
    }

    /// Stored before it is acted on: a controller restarted mid-rollout neither forgets it nor starts a node
    /// twice at once beyond `max_parallel`.
    private func save(_ rollout: RolloutView) throws {
        if let catalog = store.catalog {
            try catalog.save(rollout)
        } else {
            try Files.writeAtomically(path, WireJSON.encodePretty(rollout) + "\n", mode: 0o644)
        }
        current = rollout
    }
}

extension ClusterState {
    /// What a rollout needs of its nodes: READY (approved, not revoked) or not, and the version they run.
    func rolloutFacts(_ names: Set<String>, publishedVersions: [String: String]) -> [String: RolloutRules.NodeFacts] {
        var facts: [String: RolloutRules.NodeFacts] = [:]
        for name in names {
            guard let node = nodes[NodeID(name)] else { continue }
            facts[name] = RolloutRules.NodeFacts(
                ready: node.status == .ready && node.approved && !node.revoked,
                version: node.agentBuild.flatMap { publishedVersions[$0] } ?? node.agentVersion
            )
        }
        return facts
    }
}
