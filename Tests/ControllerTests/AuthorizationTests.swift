import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import Foundation
import HTTPKit
import Synchronization
import Testing

@testable import ControllerKit

/// Every route of the API against every kind of caller, checked against the table below, over a real socket:
/// the real HTTP server, router, handlers, state actor and SQLite file (the clock alone is the test's, so a
/// token can expire without waiting). A route the table lacks fails the
/// test, so a new endpoint cannot ship without deciding who may call it.
@Suite struct AuthorizationTests {
    enum Caller: String, CaseIterable, Sendable {
        case none, wrong, expired, revoked, alice, bob, admin, node, cluster
    }

    enum Outcome: Equatable, CustomStringConvertible {
        case ok, badRequest, unauthorized, forbidden, notFound, conflict
        var description: String {
            switch self {
            case .ok: "2xx"
            case .badRequest: "400"
            case .conflict: "409"
            case .unauthorized: "401"
            case .forbidden: "403"
            case .notFound: "404"
            }
        }
        static func of(_ status: Int) -> Outcome? {
            switch status {
            case 200..<300: .ok
            case 400: .badRequest
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            case 409: .conflict
            default: nil
            }
        }
    }

    /// Who may do what. alice owns the job; bob is another user (someone else's job looks unknown: 404).
    /// Callers without a usable token (none, wrong, expired, revoked) get 401 everywhere but /healthz and the
    /// dashboard's static files.
    static let table: [String: [Caller: Outcome]] = {
        func user(owner: Outcome = .ok, other: Outcome = .ok) -> [Caller: Outcome] {
            [.alice: owner, .bob: other, .admin: .ok, .node: .forbidden, .cluster: .forbidden]
        }
        let adminOnly: [Caller: Outcome] = [
            .alice: .forbidden, .bob: .forbidden, .admin: .ok, .node: .forbidden, .cluster: .forbidden,
        ]
        let ownNode: [Caller: Outcome] = [
            .alice: .forbidden, .bob: .forbidden, .admin: .forbidden, .node: .ok, .cluster: .forbidden,
        ]
        // Static and data-free: the health check and the dashboard's page, script and style (its data comes
        // from the API below, with the user's token).
        let everyone: [Caller: Outcome] = [
            .none: .ok, .wrong: .ok, .expired: .ok, .revoked: .ok, .alice: .ok, .bob: .ok, .admin: .ok,
            .node: .ok, .cluster: .ok,
        ]
        return [
            "GET /healthz": everyone,
            "GET /v1/openapi.json": everyone,
            "GET /v1/usage": user(),
            "GET /": everyone,
            "GET /dashboard.js": everyone,
            "GET /dashboard.css": everyone,
            "POST /v1/jobs": user(),
            "POST /v1/jobs/batch": user(),
            "GET /v1/jobs": user(),
            "GET /v1/jobs/{id}": user(other: .notFound),
            "POST /v1/jobs/{id}/cancel": user(other: .notFound),
            // Job control, each on a job of alice's of its own (callers go in `Caller` order: alice before admin).
            // A QUEUED job: alice holds it, then admin's hold makes it an admin's.
            "POST /v1/jobs/{id}/hold": user(other: .notFound),
            // Held by an admin: its owner may not release it.
            "POST /v1/jobs/{id}/release": [
                .alice: .forbidden, .bob: .notFound, .admin: .ok, .node: .forbidden, .cluster: .forbidden,
            ],
            // Placed, its launch not handed out: alice's requeue (held) takes it back at once, so admin's finds it
            // QUEUED.
            "POST /v1/jobs/{id}/requeue": [
                .alice: .ok, .bob: .notFound, .admin: .conflict, .node: .forbidden, .cluster: .forbidden,
            ],
            "PATCH /v1/jobs/{id}": user(other: .notFound),
            "GET /v1/jobs/{id}/events": user(other: .notFound),
            "GET /v1/jobs/{id}/logs": user(other: .notFound),
            "GET /v1/jobs/{id}/explain": user(other: .notFound),
            // The job is not running yet: its owner and admins get as far as that (409), others not even to it.
            "POST /v1/jobs/{id}/exec": [
                .alice: .conflict, .bob: .notFound, .admin: .conflict, .node: .forbidden, .cluster: .forbidden,
            ],
            "GET /v1/exec/{session}": [
                .alice: .notFound, .bob: .notFound, .admin: .notFound, .node: .forbidden, .cluster: .forbidden,
            ],
            "POST /v1/agents/{node}/exec/{session}": [
                .alice: .forbidden, .bob: .forbidden, .admin: .forbidden, .node: .notFound, .cluster: .forbidden,
            ],
            "GET /metrics": user(),
            "GET /v1/queues": user(),
            "GET /v1/nodes": user(),
            "GET /v1/nodes/{id}": user(),
            "GET /v1/nodes/{id}/utilization": user(),
            "POST /v1/nodes/{id}/drain": adminOnly,
            "POST /v1/nodes/{id}/resume": adminOnly,
            "POST /v1/nodes/{id}/revoke": adminOnly,
            "POST /v1/nodes/{id}/approve": adminOnly,
            "POST /v1/tokens": adminOnly,
            "GET /v1/tokens": adminOnly,
            "POST /v1/tokens/{prefix}/revoke": adminOnly,
            // A node token or the join token is nobody: whoami is for people (issue 18).
            "GET /v1/whoami": [.alice: .ok, .bob: .ok, .admin: .ok, .node: .unauthorized, .cluster: .unauthorized],
            "POST /v1/agents/register": [
                .alice: .forbidden, .bob: .forbidden, .admin: .forbidden, .node: .forbidden, .cluster: .ok,
            ],
            "GET /v1/agents/join-check": [
                .alice: .forbidden, .bob: .forbidden, .admin: .forbidden, .node: .forbidden, .cluster: .ok,
            ],
            // Agent builds: any agent (node or join token) and admins; none is published here, so a download is 404.
            "GET /v1/agent-builds": [
                .alice: .forbidden, .bob: .forbidden, .admin: .ok, .node: .ok, .cluster: .ok,
            ],
            "GET /v1/agent-builds/{sha256}": [
                .alice: .forbidden, .bob: .forbidden, .admin: .notFound, .node: .notFound, .cluster: .notFound,
            ],
            // A rolling update: admins start and abort it, users look. No build is published here (400), no
            // rollout has run (404) and none runs (409): the admin gets past authorization to those answers.
            "POST /v1/agent-rollout": [
                .alice: .forbidden, .bob: .forbidden, .admin: .badRequest, .node: .forbidden, .cluster: .forbidden,
            ],
            "GET /v1/agent-rollout": user(owner: .notFound, other: .notFound).merging([.admin: .notFound]) { $1 },
            "POST /v1/agent-rollout/abort": [
                .alice: .forbidden, .bob: .forbidden, .admin: .conflict, .node: .forbidden, .cluster: .forbidden,
            ],
            "POST /v1/agents/{node}/heartbeat": ownNode,
            "POST /v1/agents/{node}/status": ownNode,
            "GET /v1/agents/{node}/assignments": ownNode,
            "POST /v1/allocations/{id}/status": ownNode,
            "POST /v1/allocations/{id}/logs": ownNode,
        ]
    }()

    @Test func everyRouteAgainstEveryCaller() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let (api, state, credentials, clock) = (fixture.api, fixture.state, fixture.credentials, fixture.clock)
        let router = api.router()
        var serving = HTTPServerConfiguration()
        serving.host = "127.0.0.1"
        serving.port = 0
        let server = HTTPServer(configuration: serving, responder: api.responder(log: MemoryLog()))
        try server.start()
        defer { server.shutdown() }
        let endpoint = "http://127.0.0.1:\(server.port)"

        // The callers' tokens.
        var tokens: [Caller: String] = [.wrong: "cru_not_a_real_token"]
        tokens[.admin] = try await credentials.createToken(user: "admin", kind: .admin, expiresIn: nil).0
        tokens[.alice] = try await credentials.createToken(user: "alice", kind: .user, expiresIn: nil).0
        tokens[.bob] = try await credentials.createToken(user: "bob", kind: .user, expiresIn: nil).0
        tokens[.expired] = try await credentials.createToken(user: "carol", kind: .user, expiresIn: 60).0
        let revoked = try await credentials.createToken(user: "dave", kind: .user, expiresIn: nil)
        tokens[.revoked] = revoked.0
        _ = try await credentials.revokeToken(prefix: revoked.1.prefix)
        let throwaway = try await credentials.createToken(user: "erin", kind: .user, expiresIn: nil).1.prefix
        tokens[.cluster] = "crj_cluster_token_for_the_test"
        try await credentials.ensure(token: tokens[.cluster]!, kind: .cluster, subject: "cluster")
        clock.advance(.seconds(120))  // the expired token is now past its expiry

        // Two nodes (one to be revoked) and a job of alice's placed on node-1.
        func register(_ node: String) async throws -> String {
            let body = RegisterRequest(
                nodeId: node,
                hostname: node,
                bootId: "b",
                cpus: 8,
                memory: 1 << 34,
                gpus: [GPUReport(index: 0, uuid: "GPU-\(node)", name: "Stand-in")],
                labels: [:],
                agentVersion: "test",
                running: []
            )
            let response = try await call(
                endpoint,
                "POST",
                "/v1/agents/register",
                tokens[.cluster],
                WireJSON.encode(body)
            )
            return try JSONDecoder.wire.decode(RegisterResponse.self, from: Data(response.body)).nodeToken
        }
        tokens[.node] = try await register("node-1")
        _ = try await register("node-2")
        let submitted = try await call(
            endpoint,
            "POST",
            "/v1/jobs",
            tokens[.alice],
            Array(#"{"command":["true"],"gpus":1}"#.utf8)
        )
        let job = try JSONDecoder.wire.decode(JobView.self, from: Data(submitted.body)).id
        // Job control's own jobs: one placed (on node-2), two that fit nowhere and stay QUEUED.
        func submit(_ json: String) async throws -> String {
            let response = try await call(endpoint, "POST", "/v1/jobs", tokens[.alice], Array(json.utf8))
            return try JSONDecoder.wire.decode(JobView.self, from: Data(response.body)).id
        }
        let toRequeue = try await submit(#"{"command":["true"],"gpus":1}"#)
        let toHold = try await submit(#"{"command":["true"],"gpus":8}"#)
        let toRelease = try await submit(#"{"command":["true"],"gpus":8}"#)
        _ = try await state.control(JobID(toRelease), .hold, by: Principal(kind: .admin, subject: "admin"))
        await state.runSchedulingPass()
        let allocation = "\(job).1"

        /// The concrete request for each route: path parameters filled in, a body where one is needed.
        func request(_ route: String) -> (String, String, [UInt8]) {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            var path = parts[1]
            var body: [UInt8] = []
            switch route {
            case "POST /v1/jobs": body = Array(#"{"command":["true"]}"#.utf8)
            case "POST /v1/jobs/batch": body = Array(#"{"jobs":[{"command":["true"]}]}"#.utf8)
            case "POST /v1/tokens": body = Array(#"{"user":"frank"}"#.utf8)
            case "POST /v1/jobs/{id}/exec": body = Array(#"{"command":["true"]}"#.utf8)
            case "POST /v1/jobs/{id}/hold", "PATCH /v1/jobs/{id}":
                path = path.replacingOccurrences(of: "{id}", with: toHold)
                if parts[0] == "PATCH" { body = Array(#"{"priority":-1}"#.utf8) }
            case "POST /v1/jobs/{id}/release": path = path.replacingOccurrences(of: "{id}", with: toRelease)
            case "POST /v1/jobs/{id}/requeue":
                path = path.replacingOccurrences(of: "{id}", with: toRequeue)
                body = Array(#"{"hold":true}"#.utf8)
            case "POST /v1/agents/{node}/exec/{session}": body = WireJSON.encode(ExecReport(data: [1], done: false))
            case "POST /v1/nodes/{id}/revoke": path = path.replacingOccurrences(of: "{id}", with: "node-2")
            case "POST /v1/nodes/{id}/approve":
                path = path.replacingOccurrences(of: "{id}", with: "node-2") + "?rejoin=true"
            case "POST /v1/tokens/{prefix}/revoke": path = path.replacingOccurrences(of: "{prefix}", with: throwaway)
            case "POST /v1/agents/register":
                body = WireJSON.encode(
                    RegisterRequest(
                        nodeId: "node-3",
                        hostname: "node-3",
                        bootId: "b",
                        cpus: 1,
                        memory: 1 << 30,
                        gpus: [],
                        labels: [:],
                        agentVersion: "test",
                        running: []
                    )
                )
            case "POST /v1/agents/{node}/heartbeat":
                body = WireJSON.encode(
                    HeartbeatRequest(bootId: "b", running: [RunningAllocation(allocationId: allocation, pid: 1)])
                )
            case "POST /v1/agents/{node}/status":
                body = WireJSON.encode(
                    StatusBatchRequest(
                        reports: [AllocationStatusReport(allocationId: allocation, status: .init(phase: .starting))]
                    )
                )
            case "GET /v1/agents/{node}/assignments": path += "?wait=0"
            case "POST /v1/allocations/{id}/status": body = WireJSON.encode(AllocationStatusRequest(phase: .starting))
            case "POST /v1/allocations/{id}/logs":
                path += "?offset=0"
                body = Array("hello\n".utf8)
            default: break
            }
            path = path.replacingOccurrences(of: "{node}", with: "node-1")
            path = path.replacingOccurrences(of: "{session}", with: "xnosuchsession")
            path = path.replacingOccurrences(of: "{sha256}", with: String(repeating: "0", count: 64))
            path = path.replacingOccurrences(of: "/v1/allocations/{id}", with: "/v1/allocations/\(allocation)")
            path = path.replacingOccurrences(of: "/v1/nodes/{id}", with: "/v1/nodes/node-1")
            path = path.replacingOccurrences(of: "{id}", with: job)
            return (parts[0], path, body)
        }

        #expect(Set(router.routes) == Set(Self.table.keys), "every route needs a row in the table")
        let orderedRoutes = router.routes.sorted { a, _ in !a.contains("revoke") }  // revocations last
        for route in orderedRoutes {
            let expected = Self.table[route] ?? [:]
            for caller in Caller.allCases {
                let outcome = expected[caller] ?? .unauthorized
                let (method, path, body) = request(route)
                let response = try await call(endpoint, method, path, tokens[caller], body)
                #expect(
                    Outcome.of(response.status) == outcome,
                    "\(route) as \(caller): \(response.status) \(String(decoding: response.body, as: UTF8.self)), expected \(outcome)"
                )
            }
        }
    }

    func call(
        _ endpoint: String,
        _ method: String,
        _ path: String,
        _ token: String?,
        _ body: [UInt8]
    ) async throws -> HTTPClientResponse {
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: endpoint, bearerToken: token))
        return try await client.execute(HTTPMethod(method), path, body: method == "GET" ? nil : body)
    }
}

extension JSONDecoder {
    static var wire: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
