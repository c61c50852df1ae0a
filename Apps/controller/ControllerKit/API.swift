import ClusterCore
import ClusterWire
import HTTPKit

/// The HTTP API of DESIGN.md, as routes over the cluster state. Handlers decode, authorize, call one state
/// operation and encode; they hold no state themselves.
struct API: Sendable {
    let state: ClusterState
    let logs: LogStore
    let settings: ControllerConfiguration

    func router() -> Router {
        var router = Router()
        router.add(.get, "/healthz") { _ in .json(Array(#"{"status":"ok"}"#.utf8)) }
        Dashboard.add(to: &router)

        router.add(.post, "/v1/jobs") { request in try await submit(request) }
        router.add(.get, "/v1/jobs") { request in try await listJobs(request) }
        router.add(.get, "/v1/jobs/{id}") { request in
            let principal = try await user(request)
            let job = try await state.resolveJob(request.pathParameters["id"] ?? "", for: principal)
            return .json(WireJSON.encode(JobView(job)))
        }
        router.add(.post, "/v1/jobs/{id}/cancel") { request in
            let principal = try await user(request)
            let job = try await state.resolveJob(request.pathParameters["id"] ?? "", for: principal)
            return .json(WireJSON.encode(JobView(try await state.cancel(job.id, by: principal))))
        }
        router.add(.get, "/v1/jobs/{id}/events") { request in
            let principal = try await user(request)
            let job = try await state.resolveJob(request.pathParameters["id"] ?? "", for: principal)
            let events = try await state.events(of: job.id, for: principal).map(EventView.init)
            return .json(WireJSON.encode(EventListResponse(events: events)))
        }
        router.add(.get, "/v1/jobs/{id}/logs") { request in try await jobLogs(request) }
        router.add(.post, "/v1/allocations/{id}/logs") { request in try await appendLogs(request) }
        router.add(.get, "/v1/jobs/{id}/explain") { request in
            let principal = try await user(request)
            let job = try await state.resolveJob(request.pathParameters["id"] ?? "", for: principal)
            return .json(WireJSON.encode(await state.explain(job)))
        }
        // Prometheus: any user token (`bearer_token_file` in the scrape config); the exposition format 0.0.4.
        router.add(.get, "/metrics") { request in
            _ = try await user(request)
            return HTTPResponse(
                status: .ok,
                headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]),
                body: Array(await state.metrics().utf8)
            )
        }
        router.add(.get, "/v1/queues") { request in
            _ = try await user(request)
            return .json(WireJSON.encode(QueueListResponse(queues: await state.queueViews())))
        }
        router.add(.get, "/v1/nodes") { request in
            _ = try await user(request)
            return .json(WireJSON.encode(NodeListResponse(nodes: await state.nodeViews())))
        }
        router.add(.get, "/v1/nodes/{id}") { request in
            _ = try await user(request)
            return .json(WireJSON.encode(try await state.nodeView(NodeID(request.pathParameters["id"] ?? ""))))
        }
        router.add(.post, "/v1/nodes/{id}/drain") { request in
            let principal = try await admin(request, "drain nodes")
            let body = request.body.isEmpty ? DrainRequest() : try decode(DrainRequest.self, request)
            if let reason = body.reason, reason.count > 256 || reason.utf8.contains(0) {
                throw APIError.badRequest("at most 256 characters, no NUL", field: "reason")
            }
            let node = NodeID(request.pathParameters["id"] ?? "")
            return .json(WireJSON.encode(try await state.drain(node, reason: body.reason, by: principal.subject)))
        }
        router.add(.post, "/v1/nodes/{id}/resume") { request in
            let principal = try await admin(request, "resume nodes")
            let node = NodeID(request.pathParameters["id"] ?? "")
            return .json(WireJSON.encode(try await state.resume(node, by: principal.subject)))
        }
        router.add(.post, "/v1/tokens") { request in try await createToken(request) }
        router.add(.get, "/v1/tokens") { request in
            _ = try await admin(request, "list tokens")
            return .json(WireJSON.encode(TokenListResponse(tokens: await state.tokenViews())))
        }
        router.add(.post, "/v1/tokens/{prefix}/revoke") { request in
            _ = try await admin(request, "revoke tokens")
            return .json(WireJSON.encode(try await state.revokeToken(prefix: request.pathParameters["prefix"] ?? "")))
        }
        router.add(.get, "/v1/whoami") { request in
            guard await state.authenticate(request.bearerToken) != nil,
                let me = await state.whoami(token: request.bearerToken)
            else { throw APIError.unauthorized }
            return .json(WireJSON.encode(me))
        }
        router.add(.post, "/v1/nodes/{id}/revoke") { request in
            let principal = try await admin(request, "revoke nodes")
            let node = NodeID(request.pathParameters["id"] ?? "")
            return .json(WireJSON.encode(try await state.revokeNode(node, by: principal.subject)))
        }

        router.add(.post, "/v1/agents/register") { request in try await register(request) }
        router.add(.post, "/v1/agents/{node}/heartbeat") { request in
            let node = try await agent(request)
            let body = try decode(HeartbeatRequest.self, request)
            return .json(WireJSON.encode(try await state.heartbeat(node: node, body)))
        }
        router.add(.get, "/v1/agents/{node}/assignments") { request in
            let node = try await agent(request)
            let seconds = Int(request.query["wait"] ?? "") ?? settings.longPollSeconds
            let wait = Duration.seconds(max(0, min(seconds, 60)))
            return .json(WireJSON.encode(await state.assignments(node: node, wait: wait)))
        }
        router.add(.post, "/v1/agents/{node}/status") { request in
            let node = try await agent(request)
            let body = try decode(StatusBatchRequest.self, request)
            guard body.reports.count <= StatusBatchRequest.maxReports else {
                throw APIError.badRequest(
                    "at most \(StatusBatchRequest.maxReports) reports per request",
                    field: "reports"
                )
            }
            return .json(
                WireJSON.encode(StatusBatchResponse(results: await state.allocationStatuses(body.reports, from: node)))
            )
        }
        router.add(.post, "/v1/allocations/{id}/status") { request in
            guard let principal = await state.authenticate(request.bearerToken) else { throw APIError.unauthorized }
            guard principal.kind == .node else { throw APIError.forbidden("only a node's agent reports allocations") }
            try checkCertificate(request, node: principal.subject)
            guard let id = AllocationID(parsing: request.pathParameters["id"] ?? "") else {
                throw APIError.badRequest("'\(request.pathParameters["id"] ?? "")' is not an allocation id")
            }
            let body = try decode(AllocationStatusRequest.self, request)
            let response = try await state.allocationStatus(id, from: NodeID(principal.subject), body)
            return .json(WireJSON.encode(response))
        }
        return router
    }

    // MARK: Authorization

    /// A person's (or script's) token: user or admin.
    func user(_ request: HTTPRequest) async throws -> Principal {
        guard let principal = await state.authenticate(request.bearerToken) else { throw APIError.unauthorized }
        guard principal.isUser else { throw APIError.forbidden("this token is for agents, not for the user API") }
        return principal
    }

    /// An admin's token.
    func admin(_ request: HTTPRequest, _ action: String) async throws -> Principal {
        let principal = try await user(request)
        guard principal.isAdmin else { throw APIError.forbidden("only an admin can \(action)") }
        return principal
    }

    /// A node's own token, matching the `{node}` of the path (and its client certificate, when required).
    func agent(_ request: HTTPRequest) async throws -> NodeID {
        guard let principal = await state.authenticate(request.bearerToken) else { throw APIError.unauthorized }
        let node = request.pathParameters["node"] ?? ""
        guard principal.kind == .node, principal.subject == node else {
            throw APIError.forbidden("this token may not act for node '\(node.prefix(64))'")
        }
        try checkCertificate(request, node: node)
        return NodeID(node)
    }

    /// With `--require-agent-certificate`, an agent must present a certificate from the cluster CA whose
    /// common name is its node id (mTLS): a stolen node token alone is not enough.
    func checkCertificate(_ request: HTTPRequest, node: String) throws {
        guard settings.requireAgentCertificate else { return }
        guard request.clientCertificateSubject == node else {
            throw APIError.forbidden(
                "node '\(node.prefix(64))' must present a client certificate with CN=\(node.prefix(64)) from the cluster CA "
                    + "(corral-controller tls init --client \(node.prefix(64)))"
            )
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) throws -> T {
        do {
            return try WireJSON.decode(type, from: request.body)
        } catch {
            throw APIError(error)
        }
    }

    // MARK: Handlers

    func submit(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try await user(request)
        let body = try decode(SubmitJobRequest.self, request)
        let spec: JobSpec
        do {
            spec = try body.toSpec()
        } catch {
            throw APIError(error)
        }
        try await state.checkQueue(spec.queue)
        let job = try await state.submit(spec, user: principal.subject)
        return .json(WireJSON.encode(JobView(job)), status: .created)
    }

    func listJobs(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try await user(request)
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
        let principal = try await user(request)
        let job = try await state.resolveJob(request.pathParameters["id"] ?? "", for: principal)
        let offset = try integer(request, "offset") ?? 0
        let number = try integer(request, "attempt") ?? job.currentAttempt?.number ?? 0
        var headers = HTTPHeaders()
        headers.set("Content-Type", "text/plain; charset=utf-8")
        headers.set("X-Corral-Job-State", job.state.rawValue)
        headers.set("X-Corral-Attempt", String(number))
        guard number > 0, job.attempts.contains(where: { $0.number == number }) else {
            if number == 0 {
                headers.set("X-Corral-Log-Size", "0")
                return HTTPResponse(status: .ok, headers: headers)
            }
            throw APIError.badRequest("job \(job.id) has no attempt \(number)", field: "attempt")
        }
        let (bytes, size) = await logs.read(AllocationID(job: job.id, attempt: number), from: offset)
        headers.set("X-Corral-Log-Size", String(size))
        return HTTPResponse(status: .ok, headers: headers, body: bytes)
    }

    /// `POST /v1/allocations/{id}/logs?offset=N` from the allocation's own node.
    func appendLogs(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let principal = await state.authenticate(request.bearerToken) else { throw APIError.unauthorized }
        guard principal.kind == .node else { throw APIError.forbidden("only a node's agent ships logs") }
        try checkCertificate(request, node: principal.subject)
        guard let id = AllocationID(parsing: request.pathParameters["id"] ?? "") else {
            throw APIError.badRequest("'\(request.pathParameters["id"] ?? "")' is not an allocation id")
        }
        guard await state.node(of: id) == NodeID(principal.subject) else {
            throw APIError(
                .notFound,
                "unknown_allocation",
                "allocation \(id) does not run on node \(principal.subject)"
            )
        }
        guard let offset = try integer(request, "offset") else {
            throw APIError.badRequest("is required", field: "offset")
        }
        let size = try await logs.append(id, offset: offset, bytes: request.body)
        return .json(WireJSON.encode(LogAppendResponse(size: size)))
    }

    /// A non-negative integer query parameter, or nil when absent.
    func integer(_ request: HTTPRequest, _ name: String) throws -> Int? {
        guard let text = request.query[name] else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw APIError.badRequest("must be a whole number", field: name)
        }
        return value
    }

    func createToken(_ request: HTTPRequest) async throws -> HTTPResponse {
        _ = try await admin(request, "create tokens")
        let body = try decode(CreateTokenRequest.self, request)
        guard JobSpec.isSimpleName(body.user) else {
            throw APIError.badRequest("must be 1-63 letters, digits, '-' or '_'", field: "user")
        }
        let role = body.role ?? "user"
        guard let kind = CredentialKind(rawValue: role), kind == .user || kind == .admin else {
            throw APIError.badRequest("must be 'user' or 'admin'", field: "role")
        }
        if let expiresIn = body.expiresIn, expiresIn <= 0 || expiresIn > 10 * 366 * 86400 {
            throw APIError.badRequest("must be between 1 second and 10 years", field: "expires_in")
        }
        let (token, credential) = try await state.createToken(user: body.user, kind: kind, expiresIn: body.expiresIn)
        let response = CreateTokenResponse(token: token, prefix: credential.prefix, user: body.user, role: role)
        return .json(WireJSON.encode(response), status: .created)
    }

    func register(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let principal = await state.authenticate(request.bearerToken) else { throw APIError.unauthorized }
        guard principal.kind == .cluster else {
            throw APIError.forbidden("registering a node needs the cluster join token (DIR/cluster.token)")
        }
        let body = try decode(RegisterRequest.self, request)
        guard NodeID.isValid(body.nodeId) else {
            throw APIError.badRequest("must be 1-63 letters, digits, '-', '_' or '.'", field: "node_id")
        }
        try checkCertificate(request, node: body.nodeId)
        guard body.cpus >= 0, body.memory >= 0, body.gpus.count <= 1024,
            Set(body.gpus.map(\.index)).count == body.gpus.count, body.gpus.allSatisfy({ $0.index >= 0 })
        else { throw APIError.badRequest("the inventory has negative resources or duplicate GPU indices") }
        // These strings reach people's terminals (corral nodes show) and /metrics labels: printable, bounded.
        func printable(_ text: String) -> Bool {
            text.utf8.count <= 256 && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
        }
        guard printable(body.hostname), body.gpus.allSatisfy({ printable($0.uuid) && printable($0.name) }) else {
            throw APIError.badRequest("hostname and GPU uuids and names must be printable, at most 256 bytes")
        }
        let registration = try await state.register(body)
        let response = RegisterResponse(
            nodeId: registration.node.id.rawValue,
            nodeToken: registration.token,
            heartbeatIntervalMs: Int(settings.heartbeatInterval.milliseconds),
            longPollSeconds: settings.longPollSeconds,
            stop: registration.stop.map(\.description),
            allocationLeaseMs: Int(settings.allocationLease.milliseconds)
        )
        return .json(WireJSON.encode(response))
    }
}
