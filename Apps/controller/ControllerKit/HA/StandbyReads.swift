import ClusterCore
import ClusterStore
import CorralSupport
import HTTPKit

/// What a standby answers itself (issue 19): the user API's reads (jobs, their events, logs and explanations,
/// nodes, queues, usage, tokens, whoami), the dashboard's page and the OpenAPI document, with the leader's own
/// handlers over a copy of the cluster read from the database (`ClusterState+Mirror.swift`), at most a second
/// old. Its /metrics says it stands by and no more, so that a sum over every controller Prometheus scrapes
/// counts the cluster once. Everything else goes to the leader (`StandbyResponder`): every write, the agents'
/// protocol, `exec`, agent builds, and what only the leader's memory holds (a node's utilization history). So
/// does a request whose token the standby does not know after reading the credentials again: one made on the
/// leader within the last second, or a bad one, which the leader refuses.
struct StandbyReads: HTTPResponder {
    let standby: StandbyResponder
    let copy: StandbyCopy
    let api: any HTTPResponder

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        let parts = Array(request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        guard request.method == .get, let route = Self.route(parts) else {
            return try await standby.respond(to: request)
        }
        if route == .open { return try await api.respond(to: request) }
        do {
            try await copy.fresh()
        } catch {
            // The database is away: the leader (if one can still reach it) may answer.
            copy.log.warning("standby: cannot read the cluster from the database: \(error)")
            return try await standby.respond(to: request)
        }
        guard try await copy.knows(request.bearerToken) else { return try await standby.respond(to: request) }
        if route == .metrics {
            return HTTPResponse(
                status: .ok,
                headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]),
                body: Array(await copy.state.mirrorMetrics().utf8)
            )
        }
        return try await api.respond(to: request)
    }

    enum Route { case open, read, metrics }

    /// Which GET paths a standby answers, and how; nil: the leader's.
    static func route(_ parts: [Substring]) -> Route? {
        switch parts {
        case ["v1", "openapi.json"]: return .open
        case ["metrics"]: return .metrics
        case ["healthz"]: return nil  // the standby's own (`StandbyResponder`)
        // The dashboard's page and files, and a 404 for any other (a browser's favicon.ico).
        case let path where path.first != "v1": return .open
        case ["v1", "whoami"], ["v1", "tokens"], ["v1", "jobs"], ["v1", "nodes"], ["v1", "queues"], ["v1", "usage"]:
            return .read
        case let path where path.count == 3 && (path[1] == "jobs" || path[1] == "nodes") && path[0] == "v1":
            return .read
        case let path where path.count == 4 && path[0] == "v1" && path[1] == "jobs":
            return ["events", "logs", "explain"].contains(path[3]) ? .read : nil
        default: return nil
        }
    }

    /// A standby's reads over `settings`, on connections of its own that write nothing; nil (with the reason
    /// logged) when the database cannot be read now: the standby then sends every request to the leader.
    static func make(
        standby: StandbyResponder,
        settings: PGSettings,
        configuration: ControllerConfiguration,
        clock: any WallClock,
        log: any LogSink
    ) async -> StandbyReads? {
        let databases = Databases(standby: settings)
        do {
            let state = try await ClusterState(
                settings: configuration,
                database: try databases.open(.state),
                clock: clock,
                log: log,
                mirror: true
            )
            let credentials = try CredentialStore(database: try databases.open(.credentials), clock: clock, log: log)
            let api = API(
                state: state,
                credentials: credentials,
                accounting: Accounting(database: try databases.open(.accounting), clock: clock),
                logs: try LogStore(directory: configuration.dataDir + "/logs", databases: databases, keepsSizes: false),
                settings: configuration,
                exec: ExecSessions(clock: clock),
                rollouts: AgentRollouts(
                    store: AgentBuildStore(dataDir: configuration.dataDir),
                    state: state,
                    clock: clock,
                    log: log
                )
            )
            let copy = StandbyCopy(state: state, credentials: credentials, log: log)
            return StandbyReads(standby: standby, copy: copy, api: api.responder(log: log))
        } catch {
            log.warning("standby: cannot read the cluster from the database (\(error)): requests go to the leader")
            return nil
        }
    }
}

/// The standby's copy of the cluster and of the credentials, read again when a read finds it older than a
/// second; reads that come while it is being read wait for that reading rather than start their own.
actor StandbyCopy {
    nonisolated let state: ClusterState
    nonisolated let credentials: CredentialStore
    nonisolated let log: any LogSink
    static let maxAge = Duration.seconds(1)
    private var readAt: ContinuousClock.Instant
    private var credentialsReadAt: ContinuousClock.Instant
    private var reading: Task<Void, any Error>?

    init(state: ClusterState, credentials: CredentialStore, log: any LogSink) {
        (self.state, self.credentials, self.log) = (state, credentials, log)
        // Both were read when they were made.
        (readAt, credentialsReadAt) = (.now, .now)
    }

    /// Whether the token is one this standby knows: a token it does not know may have been made on the leader
    /// since the credentials were read, which are read again then (at most ten times a second, however many
    /// bad tokens come).
    func knows(_ token: String?) async throws -> Bool {
        if credentials.authenticate(token) != nil { return true }
        guard token != nil, ContinuousClock.now - credentialsReadAt >= .milliseconds(100) else { return false }
        credentialsReadAt = .now
        try await credentials.reload()
        return credentials.authenticate(token) != nil
    }

    func fresh() async throws {
        guard ContinuousClock.now - readAt >= Self.maxAge else { return }
        if let reading { return try await reading.value }
        let started = ContinuousClock.now
        let task = Task { [state, credentials] in
            try await credentials.reload()
            try await state.reloadMirror()
        }
        reading = task
        defer { reading = nil }
        try await task.value
        (readAt, credentialsReadAt) = (started, started)
    }
}
