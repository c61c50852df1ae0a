import ClusterCore
import ClusterStore
import CorralSupport
import HTTPKit

/// What a standby answers itself (issue 19): the user API's reads (jobs, their events, logs and explanations,
/// nodes, queues, usage, tokens, whoami), the dashboard's page and the OpenAPI document, with the leader's own
/// handlers over the database: a job's reads are read from it at each request (never behind what the leader
/// answered), nodes, queues and explanations from a copy of the cluster at most a second old
/// (`ClusterState+Mirror.swift`). Its /metrics says it stands by and no more, so that a sum over every
/// controller Prometheus scrapes counts the cluster once. Everything else goes to the leader
/// (`StandbyResponder`): every write, the agents' protocol, `exec`, agent builds, and what only the leader's
/// memory holds (a node's utilization history). So does a request whose token the standby does not know even
/// after reading the credentials again: a bad one, which the leader refuses.
struct StandbyReads: HTTPResponder {
    let standby: StandbyResponder
    let copy: StandbyCopy
    let api: any HTTPResponder

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        // Segments as the router takes them (empty ones dropped: `//v1/jobs` is `/v1/jobs`), so that no spelling
        // of a path reaches a handler without the checks below.
        let parts = request.path.split(separator: "/").map { $0 }
        guard request.method == .get, let route = Self.route(parts) else {
            return try await standby.respond(to: request)
        }
        switch route {
        case .open: return try await api.respond(to: request)
        case .notFound: return .error(.notFound, code: "not_found", message: "no such page")
        case .job, .cluster, .metrics: break
        }
        do {
            try await copy.fresh(cluster: route == .cluster)
            // A token this standby does not know: the leader answers (it knows every token, and refuses bad ones).
            guard try await copy.knows(request.bearerToken) else { return try await standby.respond(to: request) }
        } catch {
            // The database is away: the leader (if one can still reach it) may answer.
            copy.log.warning("standby: cannot read the cluster from the database: \(error)")
            return try await standby.respond(to: request)
        }
        if route == .metrics {
            // A user's or an admin's token, as on the leader; any other gets the standby's one line.
            guard copy.credentials.authenticate(request.bearerToken)?.isUser == true else {
                return try await standby.respond(to: request)
            }
            return HTTPResponse(
                status: .ok,
                headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]),
                body: Array(await copy.state.mirrorMetrics().utf8)
            )
        }
        let faults = await copy.state.storeReadFaults
        let response = try await api.respond(to: request)
        // A job the database could not be read for reads as unknown in the handlers: say what it was, to retry.
        if response.status.code == 404, await copy.state.storeReadFaults != faults {
            return .error(
                .serviceUnavailable,
                code: "database_unavailable",
                message: "the database is out of reach: retry"
            )
        }
        return response
    }

    /// `open`: no token (the dashboard's files, the API's document); `notFound`: any other path outside `/v1`;
    /// `job`: a job's reads, tokens, usage, read from the database at each request; `cluster`: what the copy of
    /// the cluster answers (nodes, queues, explain), read again first when a second old.
    enum Route { case open, notFound, job, cluster, metrics }

    /// Which GET paths a standby answers, and how; nil: the leader's. `parts`: the path's non-empty segments.
    static func route(_ parts: [Substring]) -> Route? {
        switch parts {
        case [], ["dashboard.js"], ["dashboard.css"], ["v1", "openapi.json"]: return .open
        case ["metrics"]: return .metrics
        case ["healthz"]: return nil  // the standby's own (`StandbyResponder`)
        // A browser's favicon.ico, and any other page that is none.
        case let path where path.first != "v1": return .notFound
        case ["v1", "whoami"], ["v1", "tokens"], ["v1", "jobs"], ["v1", "usage"]: return .job
        case ["v1", "nodes"], ["v1", "queues"]: return .cluster
        case let path where path.count == 3 && path[1] == "jobs": return .job
        case let path where path.count == 3 && path[1] == "nodes": return .cluster
        case let path where path.count == 4 && path[1] == "jobs":
            return path[3] == "explain" ? .cluster : ["events", "logs"].contains(path[3]) ? .job : nil
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
            let api = try API.make(
                state: state,
                credentials: credentials,
                databases: databases,
                configuration: configuration,
                clock: clock,
                log: log,
                keepsLogSizes: false
            )
            let copy = StandbyCopy(state: state, credentials: credentials, log: log)
            return StandbyReads(standby: standby, copy: copy, api: api.responder(log: log))
        } catch {
            log.warning("standby: cannot read the cluster from the database (\(error)): requests go to the leader")
            return nil
        }
    }
}

/// The standby's copy of the cluster and its credentials, read again when a read finds them a second old
/// (the copy only for the reads that need it).
actor StandbyCopy {
    nonisolated let state: ClusterState
    nonisolated let credentials: CredentialStore
    nonisolated let log: any LogSink
    private var credentialsReadAt = ContinuousClock.now

    init(state: ClusterState, credentials: CredentialStore, log: any LogSink) {
        (self.state, self.credentials, self.log) = (state, credentials, log)
    }

    /// Reads the credentials again when they are a second old (a token revoked on the leader stops working here
    /// within that), and the copy of the cluster too for a read that needs it.
    func fresh(cluster: Bool) async throws {
        if ContinuousClock.now - credentialsReadAt >= ClusterState.mirrorMaxAge {
            credentialsReadAt = .now
            try await credentials.reload()
        }
        if cluster { try await state.refreshMirror() }
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
}
