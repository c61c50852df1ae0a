/// One node of the router's segment trie. Literal children are looked up by hash; at most one `{param}`
/// child per node (its name lives on the route, so `/a/{id}` and `/a/{name}/b` can share the node).
struct RouteNode: Sendable {
    struct Route: Sendable {
        let handler: Router.Handler
        let parameterNames: [String]
        /// "METHOD /pattern", as registered.
        let pattern: String
    }

    enum Segment: Hashable, Sendable {
        case literal(String)
        case parameter(String)
    }

    var literals: [String: RouteNode] = [:]
    /// Zero or one element: the array gives this recursive struct its indirection.
    var parameter: [RouteNode] = []
    var routes: [HTTPMethod: Route] = [:]

    mutating func insert(_ segments: ArraySlice<Segment>, method: HTTPMethod, route: Route) {
        guard let first = segments.first else {
            routes[method] = route
            return
        }
        switch first {
        case .literal(let name):
            literals[name, default: RouteNode()].insert(segments.dropFirst(), method: method, route: route)
        case .parameter:
            if parameter.isEmpty { parameter.append(RouteNode()) }
            parameter[0].insert(segments.dropFirst(), method: method, route: route)
        }
    }

    /// Depth-first, literal before parameter, backtracking when a literal branch dead-ends. Returns the first
    /// route for `method` (HEAD falls back to GET); otherwise records the methods of paths that did match.
    func find(
        _ segments: [Substring],
        at index: Int,
        method: HTTPMethod,
        values: inout [String],
        allowed: inout Set<HTTPMethod>
    ) -> Route? {
        if index == segments.count {
            if let route = routes[method] ?? (method == .head ? routes[.get] : nil) { return route }
            allowed.formUnion(routes.keys)
            return nil
        }
        let segment = segments[index]
        if let child = literals[String(segment)],
            let route = child.find(segments, at: index + 1, method: method, values: &values, allowed: &allowed)
        {
            return route
        }
        if let child = parameter.first {
            values.append(String(segment))
            if let route = child.find(segments, at: index + 1, method: method, values: &values, allowed: &allowed) {
                return route
            }
            values.removeLast()
        }
        return nil
    }
}
