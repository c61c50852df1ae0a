/// A pure request router over a segment trie: literal segments win over `{param}` segments, a path that
/// matches no pattern is a 404 ("not_found"), and a path that matches only under other methods is a 405
/// ("method_not_allowed") with an Allow header. HEAD is served by the GET handler when no HEAD is registered.
/// Empty segments are ignored, so "/v1/jobs/" matches "/v1/jobs".
public struct Router: HTTPResponder {
    public typealias Handler = @Sendable (HTTPRequest) async throws -> HTTPResponse

    /// The outcome of matching a method and path.
    public enum Match: Sendable {
        case found(Handler, parameters: [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    private var root = RouteNode()
    /// Every registered route as "METHOD /pattern", in registration order (for tests that walk them all).
    public private(set) var routes: [String] = []

    public init() {}

    /// Registers `handler` for `method` and `pattern` ("/v1/jobs/{id}/cancel"). Re-adding replaces.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let route = "\(method) \(pattern)"
        if !routes.contains(route) { routes.append(route) }
        let segments = pattern.split(separator: "/").map { segment -> RouteNode.Segment in
            if segment.count > 2 && segment.first == "{" && segment.last == "}" {
                return .parameter(String(segment.dropFirst().dropLast()))
            }
            return .literal(String(segment))
        }
        let names = segments.compactMap { segment -> String? in
            if case .parameter(let name) = segment { return name }
            return nil
        }
        root.insert(
            segments[...],
            method: method,
            route: .init(handler: handler, parameterNames: names, pattern: route)
        )
    }

    public func match(_ method: HTTPMethod, _ path: String) -> Match {
        let segments = path.split(separator: "/")
        var values: [String] = []
        var allowed: Set<HTTPMethod> = []
        let found = root.find(segments, at: 0, method: method, values: &values, allowed: &allowed)
        return match(found: found, values: values, allowed: allowed)
    }

    private func match(
        found: RouteNode.Route?,
        values: [String],
        allowed: Set<HTTPMethod>
    ) -> Match {
        var allowed = allowed
        if let route = found {
            return .found(route.handler, parameters: Dictionary(zip(route.parameterNames, values)) { _, last in last })
        }
        if allowed.isEmpty { return .notFound }
        if allowed.contains(.get) { allowed.insert(.head) }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }

    public func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        try await respond(to: request) { _ in }
    }

    /// `respond`, telling `matched` first which route ("METHOD /pattern") serves the request, nil for a 404 or
    /// 405: for labels that must not hold ids (metrics), from the one match the request gets.
    public func respond(to request: HTTPRequest, matched: (String?) -> Void) async throws -> HTTPResponse {
        let segments = request.path.split(separator: "/")
        var values: [String] = []
        var allowed: Set<HTTPMethod> = []
        let found = root.find(segments, at: 0, method: request.method, values: &values, allowed: &allowed)
        matched(found?.pattern)
        switch match(found: found, values: values, allowed: allowed) {
        case .found(let handler, let parameters):
            var request = request
            request.pathParameters = parameters
            return try await handler(request)
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.error(
                .methodNotAllowed,
                code: "method_not_allowed",
                message: "method \(request.method) is not allowed for \(request.path)"
            )
            response.headers.set("Allow", allowed.map(\.rawValue).joined(separator: ", "))
            return response
        case .notFound:
            return .error(.notFound, code: "not_found", message: "no route for \(request.path)")
        }
    }
}
