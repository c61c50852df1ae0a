import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import HTTPKit

/// What a standby answers itself (issue 19): `GET /v1/whoami`, the job listing (`JobListing`, as the leader pages
/// it), a job by its full id, its events and its log, read from the database the leader writes through. The leader commits
/// before it answers, so a standby is never behind what a client was told; a job is shown as stored (the leader
/// shows its memory's pending reason and idle mark). A job may be named by its full id, a unique start of one, or
/// an array's id. Everything else (an end of an id, which only the leader's memory indexes; every other read;
/// every write) goes to the leader (`StandbyResponder`).
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
            case ["jobs"]:
                let query = try JobListing.query(request)
                guard let (views, next) = try await reader.list(query, token: request.bearerToken) else { break }
                return .json(WireJSON.encode(JobListResponse(jobs: views, nextCursor: next?.rawValue)))
            case let path where path.count == 2 && path[0] == "jobs" && JobID.isValid(String(path[1])):
                let id = String(path[1])
                if let view = try await reader.arrayView(id, token: request.bearerToken) {
                    return .json(WireJSON.encode(view))
                }
                guard let job = try await reader.job(id, token: request.bearerToken) else { break }
                return .json(WireJSON.encode(JobView(job)))
            case let path where path.count == 3 && path[0] == "jobs" && path[2] == "logs":
                guard let job = try await reader.job(String(path[1]), token: request.bearerToken) else { break }
                return try await API.logs(of: job, request) { id, offset in try await reader.log(id, from: offset) }
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

    /// The job a full id or a unique prefix of one names, among those the token's user may see, as the leader
    /// resolves it (`ClusterState.resolveJob`); nil where the leader must answer: a token not known here, or no
    /// id starting so (the leader also looks for ends of ids, which only its memory indexes).
    func job(_ text: String, token: String?) async throws -> Job? {
        guard let principal = try await principal(token) else { return nil }
        guard principal.isUser else { throw APIError.forbidden("this token is for agents, not for the user API") }
        if let job = try database.loadJob(JobID(text)) {
            // Another user's job reads exactly like an unknown one, as on the leader.
            guard principal.isAdmin || job.user == principal.subject else { throw ClusterError.jobNotFound(text) }
            return job
        }
        guard JobID.isValid(text), text.count >= 3 else { return nil }
        let user = principal.isAdmin ? nil : principal.subject
        let matches = try database.jobIDs(withPrefix: text, user: user, limit: 8).prefix(6)
            .compactMap { try database.loadJob($0) }
        if matches.count > 1 { throw ClusterError.ambiguousJob(text, matches: matches.map(\.id)) }
        return matches.first
    }

    /// `GET /v1/jobs/{array}`: the array's first task with the array's counts, when the token's user may see it.
    func arrayView(_ text: String, token: String?) async throws -> JobView? {
        guard let principal = try await principal(token), principal.isUser else { return nil }
        let tasks = try database.arrayTaskStates(JobID(text))
        guard let first = try tasks.first.flatMap({ try database.loadJob($0.id) }),
            principal.isAdmin || first.user == principal.subject
        else { return nil }
        var view = JobView(first)
        view.arraySummary = Self.summary(JobID(text), tasks, limit: first.array?.limit)
        return view
    }

    static func summary(_ array: JobID, _ tasks: [(id: JobID, state: JobState)], limit: Int?) -> ArraySummaryView {
        var states: [String: Int] = [:]
        for task in tasks { states[task.state.rawValue, default: 0] += 1 }
        return ArraySummaryView(arrayId: array.rawValue, tasks: tasks.count, limit: limit, states: states)
    }

    /// A page of the listing, as the leader would give it; nil for a token not known here.
    func list(_ query: JobListing.Query, token: String?) async throws -> ([JobView], JobID?)? {
        guard let principal = try await principal(token) else { return nil }
        guard principal.isUser else { throw APIError.forbidden("this token is for agents, not for the user API") }
        let (jobs, next) = try JobListing.page(query, for: principal, in: database) { try database.loadJob($0) }
        let views = try jobs.map { job in
            var view = JobView(job)
            if query.collapseArrays, let task = job.array {
                view.arraySummary = Self.summary(
                    task.array,
                    try database.arrayTaskStates(task.array),
                    limit: task.limit
                )
            }
            return view
        }
        return (views, next)
    }

    /// Up to 4 MiB of an allocation's log from `offset`, and the size stored (read first: bytes stored after it
    /// wait for the next read).
    func log(_ id: AllocationID, from offset: Int) throws -> (bytes: [UInt8], size: Int) {
        let size = try database.logSize(id.description)
        let bytes = try database.readLog(id.description, from: offset, limit: min(4 << 20, max(0, size - offset)))
        return (bytes, size)
    }

    func events(_ id: String, token: String?) async throws -> [JobEventRecord]? {
        guard let job = try await job(id, token: token) else { return nil }
        return try database.events(of: job.id)
    }
}
