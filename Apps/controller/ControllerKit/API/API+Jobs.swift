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
            let id = parameter(request, "id")
            if let view = await state.arrayView(JobID(id), for: principal) { return .json(WireJSON.encode(view)) }
            return .json(WireJSON.encode(JobView(try await state.resolveJob(id, for: principal))))
        }
        router.add(.post, "/v1/jobs/{id}/cancel") { request in
            let principal = try user(request)
            let id = parameter(request, "id")
            if await state.visibleArray(JobID(id), for: principal) != nil {
                return .json(WireJSON.encode(try await state.cancelArray(JobID(id), by: principal)))
            }
            let job = try await state.resolveJob(id, for: principal)
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
        let body = try decode(SubmitJobRequest.self, request)
        let spec = try body.toSpec()
        try state.checkPriority(spec, for: principal)
        let array = try body.array.map { text throws(SpecError) in try ArraySpec.parse(text) }
        let account = try settings.accounts.account(for: principal.subject, tokenAccount: principal.unixUser)
        try await checkDependencies(of: spec, for: principal)
        let idempotency = try idempotencyKey(request)
        let hold =
            body.hold == true ? JobHold(by: principal.subject, byAdmin: principal.isAdmin, at: state.clock.now()) : nil
        if let array {
            let id = try await state.submitArray(
                spec,
                array,
                user: principal.subject,
                unixUser: account,
                hold: hold,
                idempotency: idempotency
            )
            let response = ArraySubmitResponse(
                arrayId: id.rawValue,
                tasks: array.indices.count,
                limit: array.limit,
                indices: array.indices
            )
            return .json(WireJSON.encode(response), status: .created)
        }
        let job = try await state.submit(
            spec,
            user: principal.subject,
            unixUser: account,
            hold: hold,
            idempotency: idempotency
        )
        return .json(WireJSON.encode(JobView(job)), status: .created)
    }

    /// That the job's dependencies are jobs or arrays the principal may see, asked of the state's actor only
    /// when there are some: each call to the actor is a hop there and back, two threads woken under load.
    func checkDependencies(of spec: JobSpec, for principal: Principal) async throws {
        guard !spec.dependsOn.isEmpty else { return }
        try await state.checkDependencies(spec.dependsOn, for: principal)
    }

    /// The `Idempotency-Key` header with the SHA-256 of the body; nil without one. 1-255 printable ASCII
    /// characters (a UUID is usual).
    func idempotencyKey(_ request: HTTPRequest) throws(APIError) -> IdempotencyRequest? {
        guard let key = request.headers.values("Idempotency-Key").first else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .badRequest("must be 1 to 255 printable ASCII characters (a UUID)", field: "Idempotency-Key")
        }
        return IdempotencyRequest(key: key, requestHash: Digest.sha256Hex(request.body))
    }

    func listJobs(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try user(request)
        let query = try JobListing.query(request)
        let (views, next) = try await state.listViews(query, for: principal)
        return .json(WireJSON.encode(JobListResponse(jobs: views, nextCursor: next?.rawValue)))
    }

    /// `GET /v1/jobs/{id}/logs?offset=N&attempt=K&rank=R`: the log bytes from N (of the current attempt, or K;
    /// of a gang's rank R), with the stored size and the job's state in headers, so `corral logs -f` knows where to go on and when to stop.
    func jobLogs(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try user(request)
        let job = try await state.resolveJob(parameter(request, "id"), for: principal)
        return try await Self.logs(of: job, request) { id, offset in try await logs.read(id, from: offset) }
    }

    /// The answer to a log read of `job` (the leader's, and a standby's from the database), the bytes from `read`.
    static func logs(
        of job: Job,
        _ request: HTTPRequest,
        read: (AllocationID, Int) async throws -> (bytes: [UInt8], size: Int)
    ) async throws -> HTTPResponse {
        let offset = try integer(request, "offset") ?? 0
        let number = try ClusterState.attemptNumber(of: job, try integer(request, "attempt"))
        let rank = try integer(request, "rank") ?? 0
        let ranks = max(job.spec.nodes, 1)
        guard rank >= 0, rank < ranks else {
            throw APIError.badRequest("job \(job.id) has \(ranks) rank(s): 0 to \(ranks - 1)", field: "rank")
        }
        var headers = HTTPHeaders()
        headers.set("Content-Type", "text/plain; charset=utf-8")
        headers.set("X-Corral-Job-State", job.state.rawValue)
        if job.state == .queued, let reason = job.pendingReason { headers.set("X-Corral-Job-Reason", reason.rawValue) }
        headers.set("X-Corral-Attempt", String(number))
        headers.set("X-Corral-Ranks", String(ranks))
        guard number > 0 else {
            headers.set("X-Corral-Log-Size", "0")
            return HTTPResponse(status: .ok, headers: headers)
        }
        let (bytes, size) = try await read(AllocationID(job: job.id, attempt: number, rank: rank), offset)
        headers.set("X-Corral-Log-Size", String(size))
        return HTTPResponse(status: .ok, headers: headers, body: bytes)
    }
}
