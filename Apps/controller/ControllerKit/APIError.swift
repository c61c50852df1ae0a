import ClusterCore
import ClusterWire
import HTTPKit

/// An error the API returns as `{"error": {"code", "message"}}` with an HTTP status.
struct APIError: Error, HTTPResponseError, Sendable {
    let status: HTTPStatus
    let code: String
    let message: String

    init(_ status: HTTPStatus, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    var response: HTTPResponse { .error(status, code: code, message: message) }

    static func jobNotFound(_ id: String) -> APIError {
        APIError(.notFound, "job_not_found", "no job '\(id.prefix(64))': run corral ls to see your jobs")
    }

    static func nodeNotFound(_ id: String) -> APIError {
        APIError(.notFound, "node_not_found", "no node '\(id.prefix(64))': run corral nodes to see them")
    }

    static let unauthorized = APIError(
        .unauthorized,
        "unauthorized",
        "missing or invalid token: send 'Authorization: Bearer TOKEN' (run corral configure)"
    )

    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, "invalid_request", field.map { "\($0): \(message)" } ?? message)
    }

    init(_ error: WireDecodingError) { self.init(.badRequest, "invalid_request", error.description) }
    init(_ error: SpecError) { self.init(.badRequest, "invalid_spec", error.description) }
}
