import HTTPKit
import Testing

@Suite struct RouterTests {
    private func makeRouter() -> Router {
        var router = Router()
        router.add(.get, "/v1/jobs") { _ in .text("list") }
        router.add(.post, "/v1/jobs") { _ in .text("create", status: .created) }
        router.add(.get, "/v1/jobs/{id}") { request in .text("job \(request.pathParameters["id"]!)") }
        router.add(.post, "/v1/jobs/{id}/cancel") { request in .text("cancel \(request.pathParameters["id"]!)") }
        router.add(.get, "/v1/jobs/stats") { _ in .text("stats") }
        router.add(.get, "/v1/nodes/{node}/gpus/{index}") { request in
            .text("\(request.pathParameters["node"]!)#\(request.pathParameters["index"]!)")
        }
        return router
    }

    private func call(_ router: Router, _ method: HTTPMethod, _ path: String) async throws -> HTTPResponse {
        try await router.respond(to: HTTPRequest(method: method, path: path))
    }

    @Test func literalAndParameterRoutes() async throws {
        let router = makeRouter()
        #expect(text(try await call(router, .get, "/v1/jobs").body) == "list")
        #expect(try await call(router, .post, "/v1/jobs").status == .created)
        #expect(text(try await call(router, .get, "/v1/jobs/42").body) == "job 42")
        #expect(text(try await call(router, .post, "/v1/jobs/42/cancel").body) == "cancel 42")
        #expect(text(try await call(router, .get, "/v1/nodes/n1/gpus/3").body) == "n1#3")
        #expect(text(try await call(router, .get, "/v1/jobs/").body) == "list")
    }

    @Test func literalWinsOverParameter() async throws {
        let router = makeRouter()
        #expect(text(try await call(router, .get, "/v1/jobs/stats").body) == "stats")
        // A literal branch that dead-ends falls back to the parameter branch.
        #expect(text(try await call(router, .post, "/v1/jobs/stats/cancel").body) == "cancel stats")
    }

    @Test func notFoundEnvelope() async throws {
        let response = try await call(makeRouter(), .get, "/v2/nothing")
        #expect(response.status == .notFound)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(text(response.body) == #"{"error":{"code":"not_found","message":"no route for /v2/nothing"}}"#)
    }

    @Test func methodNotAllowedWithAllow() async throws {
        let response = try await call(makeRouter(), .delete, "/v1/jobs")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, HEAD, POST")
        #expect(text(response.body).contains(#""code":"method_not_allowed""#))
    }

    @Test func headFallsBackToGet() async throws {
        #expect(text(try await call(makeRouter(), .head, "/v1/jobs").body) == "list")
    }

    @Test func matchReportsParameters() {
        guard case .found(_, let parameters) = makeRouter().match(.get, "/v1/nodes/a/gpus/0") else {
            Issue.record("no match")
            return
        }
        #expect(parameters == ["node": "a", "index": "0"])
    }
}
