import ClusterCore
import ClusterWire
import FoundationEssentials
import HTTPKit

/// `corral exec`: the user's routes (start a session, read its output) and the agent's (post output).
extension API {
    func addExecRoutes(to router: inout Router) {
        router.add(.post, "/v1/jobs/{id}/exec") { request in try await startExec(request) }
        router.add(.get, "/v1/exec/{session}") { request in
            let principal = try user(request)
            let id = parameter(request, "session")
            // Another user's session is as unknown as one that never was.
            guard await exec.session(id, for: principal) != nil else {
                throw APIError(.notFound, "exec_not_found", "no exec session '\(id.prefix(64))'")
            }
            let offset = try integer(request, "offset") ?? 0
            let wait = Duration.seconds(min(try integer(request, "wait") ?? 10, 30))
            guard let output = await exec.read(id, from: offset, wait: wait) else {
                throw APIError(.notFound, "exec_not_found", "no exec session '\(id.prefix(64))'")
            }
            return .json(WireJSON.encode(output))
        }
        router.add(.post, "/v1/agents/{node}/exec/{session}") { request in
            let node = try agent(request)
            let report = try decode(ExecReport.self, request)
            guard let bytes = report.bytes, bytes.count <= ExecReport.maxChunk else {
                throw APIError.badRequest("must be base64 of at most \(ExecReport.maxChunk) bytes", field: "data")
            }
            guard await exec.append(parameter(request, "session"), from: node, report, bytes: bytes) else {
                throw APIError(.notFound, "exec_not_found", "no exec session of this node with that id")
            }
            return .json(Array(#"{"ok":true}"#.utf8))
        }
    }

    func startExec(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try user(request)
        let body = try decode(ExecRequest.self, request)
        // Only the owner and admins find the job at all: for anyone else it does not exist (404).
        let job = try await state.resolveJob(parameter(request, "id"), for: principal)
        guard let program = body.command.first, !program.isEmpty else {
            throw APIError.badRequest("give the command to run", field: "command")
        }
        guard body.command.count <= SpecLimits.maxArguments,
            body.command.reduce(0, { $0 + $1.utf8.count }) <= SpecLimits.maxCommandBytes,
            !body.command.contains(where: { $0.utf8.contains(0) })
        else {
            throw APIError.badRequest("too long, or holds a NUL byte", field: "command")
        }
        let ranks = max(job.spec.nodes, 1)
        if let rank = body.rank, rank < 0 || rank >= ranks {
            throw APIError.badRequest(
                "job \(job.id) has \(ranks) rank(s), 0 to \(ranks - 1); there is no rank \(rank)",
                field: "rank"
            )
        }
        let target = try await state.execTarget(job.id, rank: body.rank ?? 0)
        guard let id = await exec.create(job: job.id, user: principal.subject, node: target.node) else {
            throw APIError(
                .tooManyRequests,
                "too_many_exec_sessions",
                "you have \(ExecSessions.maxOpenPerUser) exec sessions running: wait for one to end"
            )
        }
        let assignment = ExecAssignment(
            sessionId: id,
            allocationId: target.allocation.description,
            command: body.command
        )
        try await state.requestExec(assignment, job: job.id, node: target.node, by: principal.subject)
        let view = ExecSessionView(id: id, job: job.id.rawValue, node: target.node.rawValue)
        return .json(WireJSON.encode(view), status: .created)
    }
}
