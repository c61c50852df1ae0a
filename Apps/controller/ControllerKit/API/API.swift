import ClusterCore
import ClusterWire
import CorralSupport
import HTTPKit

/// The HTTP API of DESIGN.md, as routes over the cluster state, grouped by area (`API+Jobs.swift`,
/// `API+Nodes.swift`, `API+Tokens.swift`, `API+Agents.swift`). Handlers decode, authorize (through the credential
/// store, without touching the cluster state), call one operation and encode; they hold no state, and the
/// errors they throw become HTTP in `APIError.swift`.
struct API: Sendable {
    let state: ClusterState
    let credentials: CredentialStore
    let accounting: Accounting
    let logs: LogStore
    let settings: ControllerConfiguration
    let exec: ExecSessions
    /// The rolling agent update (`API+AgentBuilds.swift`).
    let rollouts: AgentRollouts
    /// HTTP requests and their durations, for /metrics (shared by every copy of this value).
    let httpMetrics = HTTPMetrics()

    /// The API over `state` and the other stores of `databases` (the leader's, or a standby's: `keepsLogSizes`
    /// false, as the leader appends the logs it reads).
    static func make(
        state: ClusterState,
        credentials: CredentialStore,
        databases: Databases,
        configuration: ControllerConfiguration,
        clock: any WallClock,
        log: any LogSink,
        keepsLogSizes: Bool = true
    ) throws -> API {
        API(
            state: state,
            credentials: credentials,
            accounting: Accounting(database: try databases.open(.accounting), clock: clock),
            logs: try LogStore(
                directory: configuration.dataDir + "/logs",
                databases: databases,
                keepsSizes: keepsLogSizes
            ),
            settings: configuration,
            exec: ExecSessions(clock: clock),
            rollouts: AgentRollouts(
                store: try databases.agentBuilds(dataDir: configuration.dataDir, log: log),
                state: state,
                clock: clock,
                log: log
            )
        )
    }

    func router() -> Router {
        var router = Router()
        router.add(.get, "/healthz") { _ in
            // A controller whose disk is full answers, but cannot store anything: not healthy (issue 18).
            guard let fault = await state.storageFault else { return .json(Array(#"{"status":"ok"}"#.utf8)) }
            return .json(WireJSON.encode(["status": "degraded", "problem": fault]), status: .serviceUnavailable)
        }
        // The API's OpenAPI 3.1 document (docs/openapi.json), for client generators and fuzzers: public, as it
        // says nothing a user could not read in docs/.
        router.add(.get, "/v1/openapi.json") { _ in .json(Array(OpenAPIDocument.json.utf8)) }
        Dashboard.add(to: &router)
        addJobRoutes(to: &router)
        addControlRoutes(to: &router)
        addBatchRoutes(to: &router)
        addNodeRoutes(to: &router)
        addTokenRoutes(to: &router)
        addAgentRoutes(to: &router)
        addAgentBuildRoutes(to: &router)
        addRolloutRoutes(to: &router)
        addExecRoutes(to: &router)
        addUsageRoutes(to: &router)
        return router
    }

    /// The router with the domain's errors mapped to responses: what the server serves.
    func responder(log: any LogSink) -> MappingErrors {
        MappingErrors(router: router(), log: log, metrics: httpMetrics, walSync: state.walSync)
    }

    // MARK: Shared by the areas

    /// A person's (or script's) token: user or admin.
    func user(_ request: HTTPRequest) throws(APIError) -> Principal {
        guard let principal = credentials.authenticate(request.bearerToken) else { throw .unauthorized }
        guard principal.isUser else { throw .forbidden("this token is for agents, not for the user API") }
        return principal
    }

    /// An admin's token.
    func admin(_ request: HTTPRequest, _ action: String) throws(APIError) -> Principal {
        let principal = try user(request)
        guard principal.isAdmin else { throw .forbidden("only an admin can \(action)") }
        return principal
    }

    /// The body, decoded strictly (a malformed one becomes a 400 in `APIError(mapping:)`).
    func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) throws(WireDecodingError) -> T {
        try WireJSON.decode(type, from: request.body)
    }

    /// A non-negative integer query parameter, or nil when absent.
    static func integer(_ request: HTTPRequest, _ name: String) throws(APIError) -> Int? {
        guard let text = request.query[name] else { return nil }
        guard let value = Int(text), value >= 0 else { throw .badRequest("must be a whole number", field: name) }
        return value
    }

    func integer(_ request: HTTPRequest, _ name: String) throws(APIError) -> Int? { try Self.integer(request, name) }

    /// A true/false query parameter, false when absent.
    func flag(_ request: HTTPRequest, _ name: String) throws(APIError) -> Bool {
        switch request.query[name] {
        case nil, "false", "0": return false
        case "true", "1", "": return true
        default: throw .badRequest("must be true or false", field: name)
        }
    }

    func parameter(_ request: HTTPRequest, _ name: String) -> String { request.pathParameters[name] ?? "" }
}
