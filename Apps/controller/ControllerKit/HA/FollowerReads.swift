import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import HTTPKit

/// What a standby answers itself (issue 19): `GET /v1/whoami`, a job by its full id, and its events, read from the
/// database the leader writes through. The leader commits before it answers, so a standby is never behind what a
/// client was told. Everything else (listings, short ids, arrays, logs, every write) goes to the leader
/// (`StandbyResponder`).
struct FollowerReads: HTTPResponder {
    let standby: StandbyResponder
    let reader: FollowerReader

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard request.method == .get, parts.first == "v1" else { return try await standby.respond(to: request) }
        do {
            switch Array(parts.dropFirst()) {
            case ["whoami"]:
                guard let me = try await reader.whoami(request.bearerToken) else { break }
                return .json(WireJSON.encode(me))
            case let path where path.count == 2 && path[0] == "jobs" && JobID.isValid(String(path[1])):
                guard let job = try await reader.job(String(path[1]), token: request.bearerToken) else { break }
                return .json(WireJSON.encode(JobView(job)))
            case let path where path.count == 3 && path[0] == "jobs" && path[2] == "events":
                guard let events = try await reader.events(String(path[1]), token: request.bearerToken) else { break }
                return .json(WireJSON.encode(EventListResponse(events: events.map(EventView.init))))
            default: break
            }
        } catch {
            throw APIError(mapping: error)
        }
        return try await standby.respond(to: request)
    }
}

/// A standby's reads, on connections of its own (no fence: it writes nothing), on a queue of its own.
actor FollowerReader {
    let executor = DispatchSerialExecutor(label: "corral.controller.follower")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private let database: ClusterDatabase
    private let credentials: CredentialStore
    private var reloaded = ContinuousClock.now - .seconds(2)

    init(settings: PGSettings, clock: any WallClock, log: any LogSink) throws {
        var settings = settings
        settings.applicationName += "-standby"
        database = try ClusterDatabase(postgres: settings)
        credentials = try CredentialStore(database: try ClusterDatabase(postgres: settings), clock: clock, log: log)
    }

    /// A token unknown here may be one the leader made since: the credentials are read again, at most once a
    /// second. Still unknown, nil: the request goes to the leader, which knows every token (and answers 401 to
    /// a bad one), so a standby never refuses a token it has not seen yet.
    private func principal(_ token: String?) async throws -> Principal? {
        if let principal = credentials.authenticate(token) { return principal }
        guard ContinuousClock.now - reloaded > .seconds(1) else { return nil }
        reloaded = .now
        try await credentials.reload()
        return credentials.authenticate(token)
    }

    func whoami(_ token: String?) async throws -> WhoAmIResponse? {
        guard try await principal(token) != nil else { return nil }
        return credentials.whoami(token: token)
    }

    /// The job with this full id, when the token's user may see it; nil: not stored (the leader knows the short
    /// forms of ids and the arrays) or a token not known here.
    func job(_ id: String, token: String?) async throws -> Job? {
        guard let principal = try await principal(token) else { return nil }
        guard principal.isUser else { throw APIError.forbidden("this token is for agents, not for the user API") }
        guard let job = try database.loadJob(JobID(id)) else { return nil }
        // Another user's job reads exactly like an unknown one, as on the leader.
        guard principal.isAdmin || job.user == principal.subject else { throw ClusterError.jobNotFound(id) }
        return job
    }

    func events(_ id: String, token: String?) async throws -> [JobEventRecord]? {
        guard let job = try await job(id, token: token) else { return nil }
        return try database.events(of: job.id)
    }
}
