import ClusterCore
import ClusterWire
import HTTPKit

/// `/v1/jobs`: submit, list, show, cancel, events, logs, explain.
extension API {
    func addJobRoutes(to router: inout Router) {
        router.add(.post, "/v1/jobs") { request in try await submit(request) }
        router.add(.get, "/v1/jobs") { request in try await listJobs(request) }
        router.add(.get, "/v1/jobs/{id}") { request in
            let principal = try user(request)
            return .json(WireJSON.encode(JobView(try await state.resolveJob(parameter(request, "id"), for: principal))))
        }
        router.add(.post, "/v1/jobs/{id}/cancel") { request in
            let principal = try user(request)
            let job = try await state.resolveJob(parameter(request, "id"), for: principal)
            return .json(WireJSON.encode(JobView(try await state.cancel(job.id, by: principal))))
        }
        router.add(.get, "/v1/jobs/{id}/events") { request in
            let principal = try user(request)
            let job = try await state.resolveJob(parameter(request, "id"), for: principal)
            let events = try await state.events(of: job.id, for: principal).map(EventView.init)
            return .json(WireJSON.encode(EventListResponse(events: events)))
        }
        router.add(.get, "/v1/jobs/{id}/logs") { request in try await jobLogs(request) }
        router.add(.get, "/v1/jobs/{id}/explain") { request in
            let principal = try user(request)
            let job = try await state.resolveJob(parameter(request, "id"), for: principal)
            return .json(WireJSON.encode(await state.explain(job)))
        }
    }

    func submit(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try user(request)
        let spec = try decode(SubmitJobRequest.self, request).toSpec()
        let account = try settings.accounts.account(for: principal.subject, tokenAccount: principal.unixUser)
        let job = try await state.submit(spec, user: principal.subject, unixUser: account)
        return .json(WireJSON.encode(JobView(job)), status: .created)
    }

    func listJobs(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try user(request)
        var query = ClusterState.ListQuery()
        if let states = request.query["state"], !states.isEmpty {
            var set: Set<JobState> = []
            for name in states.split(separator: ",") {
                guard let state = JobState(rawValue: name.uppercased()) else {
                    let known = JobState.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError.badRequest("unknown state '\(name.prefix(32))'; use one of \(known)", field: "state")
                }
                set.insert(state)
            }
            query.states = set
        }
        if let user = request.query["user"], !user.isEmpty { query.user = user }
        if let queue = request.query["queue"], !queue.isEmpty { query.queue = queue }
        if let name = request.query["name"], !name.isEmpty { query.name = name }
        if let limit = request.query["limit"] {
            guard let value = Int(limit), (1...1000).contains(value) else {
                throw APIError.badRequest("must be a number from 1 to 1000", field: "limit")
            }
            query.limit = value
        }
        if let cursor = request.query["cursor"], !cursor.isEmpty { query.cursor = JobID(cursor) }
        let (jobs, next) = await state.list(query, for: principal)
        return .json(WireJSON.encode(JobListResponse(jobs: jobs.map(JobView.init), nextCursor: next?.rawValue)))
    }

    /// `GET /v1/jobs/{id}/logs?offset=N&attempt=K`: the log bytes from N (of the current attempt, or K), with
    /// the stored size and the job's state in headers, so `corral logs -f` knows where to go on and when to stop.
    func jobLogs(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try user(request)
        let job = try await state.resolveJob(parameter(request, "id"), for: principal)
        let offset = try integer(request, "offset") ?? 0
        let number = try await state.attemptNumber(of: job, try integer(request, "attempt"))
        var headers = HTTPHeaders()
        headers.set("Content-Type", "text/plain; charset=utf-8")
        headers.set("X-Corral-Job-State", job.state.rawValue)
        headers.set("X-Corral-Attempt", String(number))
        guard number > 0 else {
            headers.set("X-Corral-Log-Size", "0")
            return HTTPResponse(status: .ok, headers: headers)
        }
        let (bytes, size) = await logs.read(AllocationID(job: job.id, attempt: number), from: offset)
        headers.set("X-Corral-Log-Size", String(size))
        return HTTPResponse(status: .ok, headers: headers, body: bytes)
    }
}
