import ClusterCore
public import ClusterWire
import HTTPKit

/// The typed client of Corral's API. The `corral` CLI is built on it; other Swift tools can drive the cluster
/// with it without shelling out:
///
///     let corral = CorralClient(endpoint: "http://127.0.0.1:8700", token: token)
///     let job = try await corral.submit(SubmitJobRequest(command: ["python", "train.py"]))
///     let done = try await corral.wait(for: job.id)
public struct CorralClient: Sendable {
    /// The controller's URL, or several separated by commas (controllers that share one PostgreSQL database: the
    /// client finds the one that leads, `ControllerEndpoints`).
    public let endpoint: String
    let http: ControllerEndpoints

    public init(endpoint: String, token: String, caFile: String? = nil, timeout: Duration = .seconds(30)) {
        self.endpoint = endpoint
        http = ControllerEndpoints(endpoint) { url in
            var configuration = HTTPClientConfiguration(baseURL: url, bearerToken: token)
            configuration.caFile = caFile
            configuration.requestTimeout = timeout
            configuration.userAgent = "corral-client"
            return configuration
        }
    }

    public func submit(_ request: SubmitJobRequest) async throws(CorralError) -> JobView {
        try await submitIdempotently(WireJSON.encode(request))
    }

    /// Submits a job array (`request.array` set): every task is stored before the answer.
    public func submitArray(_ request: SubmitJobRequest) async throws(CorralError) -> ArraySubmitResponse {
        try await submitIdempotently(WireJSON.encode(request))
    }

    /// Cancels every task of an array that has not ended.
    public func cancelArray(_ id: String) async throws(CorralError) -> ArrayCancelResponse {
        try await call(.post, "/v1/jobs/\(try Self.jobSegment(id))/cancel")
    }

    /// Jobs, newest first. `collapseArrays`: one line per array, with its counts; `array`: that array's tasks.
    public func jobs(
        states: [String] = [],
        user: String? = nil,
        queue: String? = nil,
        name: String? = nil,
        limit: Int = 100,
        cursor: String? = nil,
        collapseArrays: Bool = false,
        array: String? = nil
    )
        async throws(CorralError) -> JobListResponse
    {
        var query = ["limit=\(limit)"]
        if collapseArrays { query.append("collapse=arrays") }
        if let array { query.append("array=\(Self.escape(array))") }
        if !states.isEmpty { query.append("state=\(states.joined(separator: ","))") }
        if let user { query.append("user=\(Self.escape(user))") }
        if let queue { query.append("queue=\(Self.escape(queue))") }
        if let name { query.append("name=\(Self.escape(name))") }
        if let cursor { query.append("cursor=\(Self.escape(cursor))") }
        return try await call(.get, "/v1/jobs?" + query.joined(separator: "&"))
    }

    public func job(_ id: String) async throws(CorralError) -> JobView {
        try await call(.get, "/v1/jobs/\(try Self.jobSegment(id))")
    }

    public func cancel(_ id: String) async throws(CorralError) -> JobView {
        try await call(.post, "/v1/jobs/\(try Self.jobSegment(id))/cancel")
    }

    /// `corral hold`, `release`, `requeue`: one job (`JobView`), decoded by the caller's choice of type.
    public func control<T: Decodable>(
        _ id: String,
        _ action: String,
        hold: Bool = false,
        as type: T.Type = JobView.self
    ) async throws(CorralError) -> T {
        let body = action == "requeue" && hold ? WireJSON.encode(RequeueRequest(hold: true)) : nil
        return try await call(.post, "/v1/jobs/\(try Self.jobSegment(id))/\(action)", body: body)
    }

    /// `corral update`: a new time limit (seconds) and/or priority.
    public func update<T: Decodable>(
        _ id: String,
        _ request: JobUpdateRequest,
        as type: T.Type = JobView.self
    ) async throws(CorralError) -> T {
        try await call(.patch, "/v1/jobs/\(try Self.jobSegment(id))", body: WireJSON.encode(request))
    }

    /// Starts `corral exec` in a running job: the session to read its output from.
    public func exec(_ id: String, command: [String], rank: Int? = nil) async throws(CorralError) -> ExecSessionView {
        let body = WireJSON.encode(ExecRequest(command: command, rank: rank))
        return try await call(.post, "/v1/jobs/\(try Self.jobSegment(id))/exec", body: body)
    }

    /// An exec session's output from `offset` (the controller waits a while for some).
    public func execOutput(_ session: String, offset: Int) async throws(CorralError) -> ExecOutputResponse {
        guard session.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
            throw CorralError(kind: .notFound, message: "'\(session.prefix(64))' is not an exec session")
        }
        return try await call(.get, "/v1/exec/\(session)?offset=\(offset)&wait=10")
    }

    public func events(_ id: String) async throws(CorralError) -> EventListResponse {
        try await call(.get, "/v1/jobs/\(try Self.jobSegment(id))/events")
    }

    public func nodes() async throws(CorralError) -> NodeListResponse { try await call(.get, "/v1/nodes") }

    /// A piece of a job's log: the bytes from `offset`, the size stored so far, and the job's state then.
    public struct LogChunk: Sendable {
        public let bytes: [UInt8]
        public let size: Int
        public let jobState: String
        public let attempt: Int
        /// Ranks of that attempt (1 for a one-node job): each has a log of its own.
        public let ranks: Int
        /// Why the job waits, while it is QUEUED.
        public let reason: String?
    }

    /// The job's log (its current attempt, or `attempt`; rank 0's, or `rank`'s) from `offset`.
    public func logs(
        _ id: String,
        offset: Int = 0,
        attempt: Int? = nil,
        rank: Int? = nil
    ) async throws(CorralError) -> LogChunk {
        var path = "/v1/jobs/\(try Self.jobSegment(id))/logs?offset=\(offset)"
        if let attempt { path += "&attempt=\(attempt)" }
        if let rank { path += "&rank=\(rank)" }
        let response = try await executeWaitingForLeader(.get, path)
        guard response.status == 200 else { throw CorralError(response: response) }
        return LogChunk(
            bytes: response.body,
            size: Int(response.headers["X-Corral-Log-Size"] ?? "") ?? offset + response.body.count,
            jobState: response.headers["X-Corral-Job-State"] ?? "",
            attempt: Int(response.headers["X-Corral-Attempt"] ?? "") ?? 0,
            ranks: Int(response.headers["X-Corral-Ranks"] ?? "") ?? 1,
            reason: response.headers["X-Corral-Job-Reason"]
        )
    }

    /// The last `lines` lines of the job's log (`corral logs --tail N`), reading back from the end in growing
    /// windows rather than the whole log; with the log's size and attempt, to follow on from there.
    public func tailLogs(
        _ id: String,
        lines: Int,
        rank: Int? = nil
    ) async throws(CorralError) -> (bytes: [UInt8], size: Int, attempt: Int) {
        let first = try await logs(id, offset: Int.max / 2, rank: rank)  // past the end: the size and attempt
        let attempt = first.attempt > 0 ? first.attempt : nil
        var window = 64 * 1024
        while true {
            let start = max(0, first.size - window)
            var bytes: [UInt8] = []
            while start + bytes.count < first.size {
                let chunk = try await logs(id, offset: start + bytes.count, attempt: attempt, rank: rank)
                if chunk.bytes.isEmpty { break }
                bytes.append(contentsOf: chunk.bytes.prefix(first.size - start - bytes.count))
            }
            // Back from the end (a final newline ends the last line, it does not start another) to just after
            // the newline that precedes the N-th line from the end.
            var from = bytes.last == UInt8(ascii: "\n") ? bytes.count - 1 : bytes.count
            var found = 0
            while found < lines, from > 0 {
                from -= 1
                if bytes[from] == UInt8(ascii: "\n") {
                    found += 1
                    if found == lines { from += 1 }
                }
            }
            if lines == 0 { from = bytes.count }
            if found == lines || start == 0 { return (Array(bytes[from...]), first.size, first.attempt) }
            window *= 4
        }
    }

    public func explain(_ id: String) async throws(CorralError) -> ExplainResponse {
        try await call(.get, "/v1/jobs/\(try Self.jobSegment(id))/explain")
    }

    public func queues() async throws(CorralError) -> QueueListResponse { try await call(.get, "/v1/queues") }

    public func node(_ id: String) async throws(CorralError) -> NodeView {
        try await call(.get, "/v1/nodes/\(try Self.nodeSegment(id))")
    }

    /// Admin: no new work on the node; running jobs finish.
    public func drain(_ id: String, reason: String? = nil) async throws(CorralError) -> NodeView {
        try await call(
            .post,
            "/v1/nodes/\(try Self.nodeSegment(id))/drain",
            body: WireJSON.encode(DrainRequest(reason: reason))
        )
    }

    public func resume(_ id: String) async throws(CorralError) -> NodeView {
        try await call(.post, "/v1/nodes/\(try Self.nodeSegment(id))/resume")
    }

    /// Admin: a new token for `user`, shown once.
    public func createToken(
        user: String,
        role: String = "user",
        expiresIn: Int? = nil,
        unixUser: String? = nil
    ) async throws(CorralError)
        -> CreateTokenResponse
    {
        let request = CreateTokenRequest(user: user, role: role, expiresIn: expiresIn, unixUser: unixUser)
        return try await call(.post, "/v1/tokens", body: WireJSON.encode(request))
    }

    public func tokens() async throws(CorralError) -> TokenListResponse { try await call(.get, "/v1/tokens") }

    public func revokeToken(prefix: String) async throws(CorralError) -> TokenView {
        guard !prefix.isEmpty, prefix.count <= 64, prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw CorralError(
                kind: .notFound,
                message: "'\(prefix.prefix(64))' is not a token prefix: see corral tokens list"
            )
        }
        return try await call(.post, "/v1/tokens/\(prefix)/revoke")
    }

    /// Accounting rows: jobs submitted within `since` (7d, an RFC 3339 time), grouped by user, queue or node.
    public func usage(
        since: String? = nil,
        by: String? = nil,
        user: String? = nil
    ) async throws(CorralError)
        -> UsageResponse
    {
        var query: [String] = []
        if let since { query.append("since=\(Self.escape(since))") }
        if let by { query.append("by=\(Self.escape(by))") }
        if let user { query.append("user=\(Self.escape(user))") }
        return try await call(.get, "/v1/usage" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
    }

    public func whoami() async throws(CorralError) -> WhoAmIResponse { try await call(.get, "/v1/whoami") }

    /// Admin: cut a node off (its token stops working; it may not register until resumed).
    public func revokeNode(_ id: String) async throws(CorralError) -> NodeView {
        try await call(.post, "/v1/nodes/\(try Self.nodeSegment(id))/revoke")
    }

    /// Admits a node waiting for approval; `rejoin` lets a registered node join again with the join token.
    public func approveNode(_ id: String, rejoin: Bool = false) async throws(CorralError) -> NodeView {
        try await call(.post, "/v1/nodes/\(try Self.nodeSegment(id))/approve" + (rejoin ? "?rejoin=true" : ""))
    }

    /// Polls until the job has finished (SUCCEEDED, FAILED, LOST without retry, CANCELED) and returns it.
    public func wait(
        for id: String,
        every interval: Duration = .milliseconds(250)
    ) async throws(CorralError)
        -> JobView
    {
        let final: Set<String> = ["SUCCEEDED", "FAILED", "LOST", "CANCELED"]
        while true {
            let job = try await job(id)
            // An array id: its first task, with the counts of all; done when every task is.
            if let summary = job.arraySummary, summary.arrayId == id {
                if summary.states.filter({ final.contains($0.key) }).values.reduce(0, +) == summary.tasks { return job }
            } else if final.contains(job.state) {
                return job
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                throw CorralError(kind: .canceled, message: "stopped waiting for \(id)")
            }
        }
    }

    func call<T: Decodable>(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil
    ) async throws(CorralError)
        -> T
    {
        let response = try await executeWaitingForLeader(method, path, body: body)
        guard (200..<300).contains(response.status) else { throw CorralError(response: response) }
        do {
            return try WireJSON.decode(T.self, from: response.body)
        } catch {
            throw CorralError(kind: .protocolError, message: "unexpected answer from \(endpoint): \(error)")
        }
    }

    /// A job id or prefix as a path segment; anything else (`..`, `a/b`) is refused before it reaches a URL.
    static func jobSegment(_ id: String) throws(CorralError) -> String {
        guard JobID.isValid(id) else {
            throw CorralError(
                kind: .notFound,
                message: "'\(id.prefix(64))' is not a job id: run corral ls to see your jobs"
            )
        }
        return id
    }

    static func nodeSegment(_ id: String) throws(CorralError) -> String {
        guard NodeID.isValid(id) else {
            throw CorralError(
                kind: .notFound,
                message: "'\(id.prefix(64))' is not a node id: run corral nodes to see them"
            )
        }
        return id
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}

/// What went wrong talking to the controller, with the API's error code when it answered.
public struct CorralError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case unreachable, unauthorized, forbidden, notFound, badRequest, conflict, server, protocolError, canceled
    }
    public let kind: Kind
    public let code: String?
    public let message: String
    public let status: Int?

    public init(kind: Kind, message: String, code: String? = nil, status: Int? = nil) {
        self.kind = kind
        self.message = message
        self.code = code
        self.status = status
    }

    init(response: HTTPClientResponse) {
        let envelope = try? WireJSON.decode(ErrorEnvelope.self, from: response.body)
        let message = envelope?.error.message ?? "the controller answered \(response.status)"
        let kind: Kind =
            switch response.status {
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            case 400, 413, 422: .badRequest
            case 409: .conflict
            default: .server
            }
        self.init(kind: kind, message: message, code: envelope?.error.code, status: response.status)
    }

    public var description: String { message }
}
