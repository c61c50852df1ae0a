@testable import HTTPKit

/// Starts a server on 127.0.0.1, port 0, with the given router and limits; stops it after `body`.
func withTestServer<T>(
    _ router: Router,
    configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    _ body: (HTTPServer) async throws -> T
) async throws -> T {
    var configuration = HTTPServerConfiguration()
    configuration.host = "127.0.0.1"
    configuration.port = 0
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, responder: router)
    try server.start()
    do {
        let result = try await body(server)
        server.shutdown()
        await server.waitUntilStopped()
        return result
    } catch {
        server.shutdown()
        await server.waitUntilStopped()
        throw error
    }
}

func client(for server: HTTPServer, token: String? = nil) -> HTTPClient {
    HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(server.port)", bearerToken: token))
}

/// A router with the endpoints the live tests use.
func testRouter() -> Router {
    var router = Router()
    router.add(.get, "/hello") { _ in .text("hello") }
    router.add(.get, "/peer") { request in .text(request.remoteAddress) }
    router.add(.post, "/echo") { request in
        var response = HTTPResponse.json(request.body, status: .created)
        response.headers.set("X-Token", request.bearerToken ?? "-")
        response.headers.set("X-Content-Type", request.headers["Content-Type"] ?? "-")
        return response
    }
    router.add(.get, "/items/{id}") { request in
        .text("item \(request.pathParameters["id"] ?? "?") q=\(request.query["q"] ?? "-")")
    }
    router.add(.get, "/sleep/{ms}") { request in
        let milliseconds = Int(request.pathParameters["ms"] ?? "0") ?? 0
        try await Task.sleep(for: .milliseconds(milliseconds))
        return .text("slept \(milliseconds)")
    }
    router.add(.get, "/fail") { _ in throw TestFailure("secret internal detail") }
    router.add(.get, "/teapot") { _ in throw Teapot() }
    return router
}

struct Teapot: HTTPResponseError {
    var response: HTTPResponse {
        .error(HTTPStatus(code: 418, reason: "I'm a teapot"), code: "teapot", message: "short")
    }
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
