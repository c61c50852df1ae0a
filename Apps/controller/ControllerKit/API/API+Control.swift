import ClusterCore
import ClusterWire
import HTTPKit

/// Job control (issue 17): `POST /v1/jobs/{id}/hold`, `/release`, `/requeue`, and `PATCH /v1/jobs/{id}`. An
/// array's id applies the request to each of its tasks it fits.
extension API {
    func addControlRoutes(to router: inout Router) {
        router.add(.post, "/v1/jobs/{id}/hold") { request in try await control(request, .hold) }
        router.add(.post, "/v1/jobs/{id}/release") { request in try await control(request, .release) }
        router.add(.post, "/v1/jobs/{id}/requeue") { request in
            let body = request.body.isEmpty ? RequeueRequest() : try decode(RequeueRequest.self, request)
            return try await control(request, .requeue(hold: body.hold ?? false))
        }
        router.add(.patch, "/v1/jobs/{id}") { request in
            let body = try decode(JobUpdateRequest.self, request)
            guard body.timeLimit != nil || body.priority != nil else {
                throw APIError.badRequest("give time_limit, priority or both")
            }
            return try await control(request, .update(JobUpdate(timeLimit: body.timeLimit, priority: body.priority)))
        }
    }

    func control(_ request: HTTPRequest, _ action: ClusterState.ControlAction) async throws -> HTTPResponse {
        let principal = try user(request)
        let id = parameter(request, "id")
        if await state.visibleArray(JobID(id), for: principal) != nil {
            return .json(WireJSON.encode(try await state.controlArray(JobID(id), action, by: principal)))
        }
        let job = try await state.resolveJob(id, for: principal)
        return .json(WireJSON.encode(JobView(try await state.control(job.id, action, by: principal))))
    }
}
