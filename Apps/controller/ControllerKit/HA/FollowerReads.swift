import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import HTTPKit

/// What a standby answers itself (issue 19): `GET /v1/whoami`, the job listing (`JobListing`, as the leader pages
/// it), a job by its full id, its events and its log, read from the database the leader writes through. The leader commits
/// before it answers, so a standby is never behind what a client was told; a job is shown as stored (the leader
/// shows its memory's pending reason and idle mark). Everything else (short ids, arrays by their own id, every
/// write) goes to the leader (`StandbyResponder`).
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
                guard let job = try await reader.job(String(path[1]), token: request.bearerToken) else { break }
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

    /// A page of the listing, as the leader would give it; nil for a token not known here.
    func list(_ query: JobListing.Query, token: String?) async throws -> ([JobView], JobID?)? {
        guard let principal = try await principal(token) else { return nil }
        guard principal.isUser else { throw APIError.forbidden("this token is for agents, not for the user API") }
        let (jobs, next) = try JobListing.page(query, for: principal, in: database) { try database.loadJob($0) }
        let views = try jobs.map { job in
            var view = JobView(job)
            if query.collapseArrays, let task = job.array {
                let tasks = try database.arrayTaskStates(task.array)
                var states: [String: Int] = [:]
                for (_, state) in tasks { states[state.rawValue, default: 0] += 1 }
                view.arraySummary = ArraySummaryView(
                    arrayId: task.array.rawValue,
                    tasks: tasks.count,
                    limit: task.limit,
                    states: states
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
