import ClusterCore
import ClusterWire
import HTTPKit

/// `/v1/nodes`, `/v1/queues` and `/metrics`: what the cluster has, and the operator's drain, resume, approve,
/// revoke.
extension API {
    func addNodeRoutes(to router: inout Router) {
        // Prometheus: any user token (`bearer_token_file` in the scrape config); the exposition format 0.0.4.
        router.add(.get, "/metrics") { request in
            _ = try user(request)
            return HTTPResponse(
                status: .ok,
                headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]),
                body: Array((await state.metrics() + httpMetrics.text()).utf8)
            )
        }
        router.add(.get, "/v1/nodes/{id}/utilization") { request in
            _ = try user(request)
            return .json(WireJSON.encode(try await state.utilizationView(NodeID(parameter(request, "id")))))
        }
        router.add(.get, "/v1/queues") { request in
            _ = try user(request)
            return .json(WireJSON.encode(QueueListResponse(queues: await state.queueViews())))
        }
        router.add(.get, "/v1/nodes") { request in
            _ = try user(request)
            return .json(WireJSON.encode(NodeListResponse(nodes: withPublishedVersions(await state.nodeViews()))))
        }
        router.add(.get, "/v1/nodes/{id}") { request in
            _ = try user(request)
            let view = try await state.nodeView(NodeID(parameter(request, "id")))
            return .json(WireJSON.encode(withPublishedVersions([view])[0]))
        }
        router.add(.post, "/v1/nodes/{id}/drain") { request in
            let principal = try admin(request, "drain nodes")
            let body = request.body.isEmpty ? DrainRequest() : try decode(DrainRequest.self, request)
            if let reason = body.reason, reason.count > 256 || reason.utf8.contains(0) {
                throw APIError.badRequest("at most 256 characters, no NUL", field: "reason")
            }
            let node = NodeID(parameter(request, "id"))
            return .json(WireJSON.encode(try await state.drain(node, reason: body.reason, by: principal.subject)))
        }
        router.add(.post, "/v1/nodes/{id}/resume") { request in
            let principal = try admin(request, "resume nodes")
            return .json(
                WireJSON.encode(try await state.resume(NodeID(parameter(request, "id")), by: principal.subject))
            )
        }
        // Admits a node waiting for approval; with `?rejoin=true`, lets a registered node join again with the
        // join token (its token is revoked, its jobs keep running): an agent that lost its state dir.
        router.add(.post, "/v1/nodes/{id}/approve") { request in
            let principal = try admin(request, "approve nodes")
            let node = NodeID(parameter(request, "id"))
            let rejoin = try flag(request, "rejoin")
            let view = try await state.approve(node, rejoin: rejoin, by: principal.subject)
            if rejoin { try await credentials.revoke(kind: .node, subject: node.rawValue) }
            return .json(WireJSON.encode(view))
        }
        router.add(.post, "/v1/nodes/{id}/revoke") { request in
            let principal = try admin(request, "revoke nodes")
            let node = NodeID(parameter(request, "id"))
            _ = try await state.nodeView(node)  // an unknown node is a 404, before anything is revoked
            try await credentials.revoke(kind: .node, subject: node.rawValue)
            return .json(WireJSON.encode(try await state.revokeNode(node, by: principal.subject)))
        }
    }
}
