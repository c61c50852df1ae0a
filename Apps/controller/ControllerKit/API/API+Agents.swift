import ClusterCore
import ClusterWire
import HTTPKit

/// The agents' routes: register (join token), then heartbeat, long-poll, status reports and log shipping with
/// the node's own token (and its client certificate, when required).
extension API {
    func addAgentRoutes(to router: inout Router) {
        router.add(.post, "/v1/agents/register") { request in try await register(request) }
        // `corral-agent preflight`: whether the join token (and, for `?node=ID`, the client certificate the
        // controller requires) would be accepted, without registering anything.
        router.add(.get, "/v1/agents/join-check") { request in
            guard let principal = credentials.authenticate(request.bearerToken) else { throw APIError.unauthorized }
            guard principal.kind == .cluster else {
                throw APIError.forbidden("this checks the cluster join token (DIR/cluster.token), not another token")
            }
            if let node = request.query["node"] {
                guard NodeID.isValid(node) else {
                    throw APIError.badRequest("must be 1-63 letters, digits, '-', '_' or '.'", field: "node")
                }
                try checkCertificate(request, node: node)
            } else if settings.requireAgentCertificate {
                throw APIError.badRequest("this controller requires client certificates: name the node", field: "node")
            }
            return .json(Array(#"{"ok":true}"#.utf8))
        }
        router.add(.post, "/v1/agents/{node}/heartbeat") { request in
            let node = try agent(request)
            let body = try decode(HeartbeatRequest.self, request)
            var answer = try await state.heartbeat(node: node, body)
            answer.update = await rollouts.heartbeat(
                node: node,
                updateError: body.updateError.map { String($0.prefix(1000)) }
            )
            return .json(WireJSON.encode(answer))
        }
        router.add(.get, "/v1/agents/{node}/assignments") { request in
            let node = try agent(request)
            let seconds = Int(request.query["wait"] ?? "") ?? settings.longPollSeconds
            let wait = Duration.seconds(max(0, min(seconds, 60)))
            return .json(WireJSON.encode(await state.assignments(node: node, wait: wait)))
        }
        router.add(.post, "/v1/agents/{node}/status") { request in
            let node = try agent(request)
            let body = try decode(StatusBatchRequest.self, request)
            guard body.reports.count <= StatusBatchRequest.maxReports else {
                throw APIError.badRequest(
                    "at most \(StatusBatchRequest.maxReports) reports per request",
                    field: "reports"
                )
            }
            let outcomes = await state.allocationStatuses(body.reports, from: node)
            let results = zip(body.reports, outcomes).map { report, outcome in
                Self.result(String(report.allocationId.prefix(64)), outcome)
            }
            return .json(WireJSON.encode(StatusBatchResponse(results: results)))
        }
        router.add(.post, "/v1/allocations/{id}/status") { request in
            let node = try nodeOfToken(request, "reports allocations")
            let id = try allocation(request)
            let body = try decode(AllocationStatusRequest.self, request)
            return .json(WireJSON.encode(try await state.allocationStatus(id, from: node, body)))
        }
        router.add(.post, "/v1/allocations/{id}/logs") { request in try await appendLogs(request) }
    }

    /// One report's answer in a batch, with the status the single-report route would have given.
    static func result(
        _ name: String,
        _ outcome: Result<AllocationStatusResponse, ClusterState.ReportFailure>
    ) -> StatusBatchResult {
        switch outcome {
        case .success(let response):
            return StatusBatchResult(allocationId: name, status: 200, response: response)
        case .failure(.malformed(let message)):
            return StatusBatchResult(allocationId: name, status: 400, error: message)
        case .failure(.refused(let error)):
            let mapped = APIError(error)
            return StatusBatchResult(allocationId: name, status: mapped.status.code, error: mapped.message)
        case .failure(.notStored):
            return StatusBatchResult(
                allocationId: name,
                status: 503,
                error: "not applied: the reports could not be stored"
            )
        }
    }

    /// A node's own token, matching the `{node}` of the path (and its client certificate, when required).
    func agent(_ request: HTTPRequest) throws(APIError) -> NodeID {
        guard let principal = credentials.authenticate(request.bearerToken) else { throw .unauthorized }
        let node = parameter(request, "node")
        guard principal.kind == .node, principal.subject == node else {
            throw .forbidden("this token may not act for node '\(node.prefix(64))'")
        }
        try checkCertificate(request, node: node)
        return NodeID(node)
    }

    /// The node a node token stands for (routes named by allocation, not by node).
    func nodeOfToken(_ request: HTTPRequest, _ action: String) throws(APIError) -> NodeID {
        guard let principal = credentials.authenticate(request.bearerToken) else { throw .unauthorized }
        guard principal.kind == .node else { throw .forbidden("only a node's agent \(action)") }
        try checkCertificate(request, node: principal.subject)
        return NodeID(principal.subject)
    }

    func allocation(_ request: HTTPRequest) throws(APIError) -> AllocationID {
        guard let id = AllocationID(parsing: parameter(request, "id")) else {
            throw .badRequest("'\(parameter(request, "id").prefix(64))' is not an allocation id")
        }
        return id
    }

    /// With `--require-agent-certificate`, an agent must present a certificate from the cluster CA whose
    /// common name is its node id (mTLS): a stolen node token alone is not enough.
    func checkCertificate(_ request: HTTPRequest, node: String) throws(APIError) {
        guard settings.requireAgentCertificate else { return }
        guard request.clientCertificateSubject == node else {
            throw .forbidden(
                "node '\(node.prefix(64))' must present a client certificate with CN=\(node.prefix(64)) from the cluster CA "
                    + "(corral-controller tls init --client \(node.prefix(64)))"
            )
        }
    }

    /// `POST /v1/allocations/{id}/logs?offset=N` from the allocation's own node.
    func appendLogs(_ request: HTTPRequest) async throws -> HTTPResponse {
        let node = try nodeOfToken(request, "ships logs")
        let id = try allocation(request)
        guard await state.node(of: id) == node else {
            throw APIError(.notFound, "unknown_allocation", "allocation \(id) does not run on node \(node)")
        }
        guard let offset = try integer(request, "offset") else {
            throw APIError.badRequest("is required", field: "offset")
        }
        let size = try await logs.append(id, offset: offset, bytes: request.body)
        return .json(WireJSON.encode(LogAppendResponse(size: size)))
    }

    func register(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let principal = credentials.authenticate(request.bearerToken) else { throw APIError.unauthorized }
        guard principal.kind == .cluster || principal.kind == .node else {
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
        guard printable(body.agentVersion), body.agentVersion.utf8.count <= 64 else {
            throw APIError.badRequest("must be printable, at most 64 bytes", field: "agent_version")
        }
        if let build = body.agentBuild, !AgentBuild.isSHA256(build) {
            throw APIError.badRequest("must be a SHA-256 as 64 lowercase hex digits", field: "agent_build")
        }
        let node = NodeID(body.nodeId)
        let decision = RegistrationPolicy.decide(
            RegistrationPolicy.Facts(
                node: body.nodeId,
                callerKind: principal.kind,
                callerSubject: principal.subject,
                certificateSubject: request.clientCertificateSubject,
                known: await state.nodes[node] != nil,
                hasLiveToken: credentials.hasLiveToken(node: node),
                approvalRequired: settings.approveNodes
            )
        )
        let token: String
        let awaitingApproval: Bool
        switch decision {
        case .refused(let message): throw APIError.forbidden(message)
        case .keepToken: (token, awaitingApproval) = (request.bearerToken ?? "", false)
        case .issueToken(let pending): (token, awaitingApproval) = ("", pending)
        }
        let registration = try await state.register(
            body,
            from: request.remoteAddress,
            awaitingApproval: awaitingApproval
        )
        let issued = token.isEmpty ? try await credentials.issueNodeToken(for: registration.node.id) : token
        let response = RegisterResponse(
            nodeId: registration.node.id.rawValue,
            nodeToken: issued,
            heartbeatIntervalMs: Int(settings.heartbeatInterval.milliseconds),
            longPollSeconds: settings.longPollSeconds,
            stop: registration.stop.map(\.description),
            allocationLeaseMs: Int(settings.allocationLease.milliseconds)
        )
        return .json(WireJSON.encode(response))
    }
}
