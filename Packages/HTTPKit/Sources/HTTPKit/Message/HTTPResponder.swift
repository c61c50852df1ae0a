/// Anything that turns a request into a response: a `Router`, a middleware chain, a test stub.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest) async throws -> HTTPResponse
}

/// An error that knows its HTTP response. The server sends `response` for these; any other thrown error
/// becomes a 500 with the "internal" envelope, so internals never leak to clients.
public protocol HTTPResponseError: Error {
    var response: HTTPResponse { get }
}

extension HTTPResponder {
    /// `respond(to:)` with the server's error policy applied; never throws.
    func respondMappingErrors(to request: HTTPRequest) async -> HTTPResponse {
        do {
            return try await respond(to: request)
        } catch let error as any HTTPResponseError {
            return error.response
        } catch {
            return .error(.internalServerError, code: "internal", message: "internal server error")
        }
    }
}
