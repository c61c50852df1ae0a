import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
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

    static let unauthorized = APIError(
        .unauthorized,
        "unauthorized",
        "missing or invalid token: send 'Authorization: Bearer TOKEN' (run corral configure)"
    )

    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }

    /// The controller's disk is full: nothing of the request was stored (issue 18: it was a bare 500).
    static let diskFull = APIError(
        .insufficientStorage,
        "disk_full",
        "the controller's disk is full (its data directory): nothing was stored; an operator must free space"
    )

    /// How strerror(ENOSPC) reads, which Files.Failure messages end with.
    static let noSpace = "No space left on device"

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, "invalid_request", field.map { "\($0): \(message)" } ?? message)
    }
}

/// The one place where the domain's errors become HTTP: what the cluster state, the credential store and the
/// wire decoders throw is mapped here, and nowhere else.
extension APIError {
    init(mapping error: any Error) {
        switch error {
        case let error as APIError: self = error
        case let error as ClusterError: self.init(error)
        case let error as CredentialStore.Failure: self.init(error)
        case let error as WireDecodingError: self.init(.badRequest, "invalid_request", error.description)
        case let error as SpecError: self.init(.badRequest, "invalid_spec", error.description)
        case AccountPolicy.Refusal.invalidName(let name):
            self = .badRequest(AccountPolicy.Refusal.invalidName(name).description, field: "unix_user")
        case let error as AccountPolicy.Refusal: self = .forbidden(error.description)
        case let error as StoreError where ResultCode.full ~= error.code: self = .diskFull
        case let error as StoreError where error.isFenced:
            self.init(.serviceUnavailable, "not_leader", "this controller no longer leads: ask another")
        case let error as StoreError where error.connectionLost:
            // Nothing was stored (a commit whose outcome is unknown ends the controller first): safe to retry.
            self.init(.serviceUnavailable, "database_unavailable", "the database is out of reach: retry in a moment")
        case let error as Files.Failure where error.message.hasSuffix(APIError.noSpace): self = .diskFull
        default: self.init(.internalServerError, "internal", "internal server error")
        }
    }

    init(_ error: ClusterError) {
        switch error {
        case .jobNotFound(let id):
            self.init(.notFound, "job_not_found", "no job '\(id.prefix(64))': run corral ls to see your jobs")
        case .ambiguousJob(let text, let matches):
            self.init(
                .conflict,
                "ambiguous_id",
                "'\(text)' matches several jobs (\(matches.map(\.rawValue).joined(separator: ", "))): give more characters"
            )
        case .alreadyFinished(let id, let state):
            self.init(.conflict, "already_finished", "job \(id) already finished (\(state)); nothing to cancel")
        case .nodeNotFound(let id):
            self.init(.notFound, "node_not_found", "no node '\(id.prefix(64))': run corral nodes to see them")
        case .nodeNotRegistered(let id):
            self.init(.notFound, "unknown_node", "node \(id) is not registered")
        case .nodeRevoked(let id):
            self = .forbidden("node \(id) was revoked by an admin; an admin can readmit it with corral resume \(id)")
        case .nodeAlreadyApproved(let id):
            self.init(
                .conflict,
                "already_approved",
                "node \(id) is already approved; --rejoin lets its agent join again with the join token (its node "
                    + "token is revoked, its jobs keep running)"
            )
        case .allocationNotFound(let id):
            self.init(.notFound, "unknown_allocation", "allocation \(id.prefix(64)) does not exist")
        case .allocationOfAnotherNode(let id, let node):
            self = .forbidden("allocation \(id) does not belong to node \(node)")
        case .unknownQueue(let name, let known):
            self = .badRequest(
                "unknown queue '\(name.prefix(64))'; this cluster has: \(known.joined(separator: ", "))",
                field: "queue"
            )
        case .notRunning(let id, let state):
            self.init(.conflict, "not_running", "job \(id) is \(state), not RUNNING: there is nothing to exec into")
        case .execIntoContainer(let id):
            self.init(
                .conflict,
                "exec_into_container",
                "job \(id) runs in a container: corral exec enters only jobs without an image"
            )
        case .unknownDependency(let id):
            self = .badRequest(
                "no job or array '\(id.prefix(64))' of yours: run corral ls to see your jobs",
                field: "depends_on"
            )
        case .noSuchAttempt(let job, let number):
            self = .badRequest("job \(job) has no attempt \(number)", field: "attempt")
        case .refused(let id, let action, let rejection):
            self.init(refused: id, action, rejection)
        case .idempotencyKeyReused(let key):
            self.init(
                .unprocessableContent,
                "idempotency_key_reused",
                "Idempotency-Key '\(key.prefix(64))' was used with another request: use a new key for a new submission"
            )
        }
    }

    /// A job-control refusal: 409 for the job's state, 403 for what the requester may not do, 400 for a bad value.
    init(refused id: JobID?, _ action: String, _ rejection: LifecycleRejection) {
        let job = id.map { "job \($0)" } ?? "the job"
        switch rejection {
        case .alreadyFinished(let state):
            self.init(.conflict, "already_finished", "\(job) already finished (\(state)); nothing to \(action)")
        case .notQueued(let state):
            self.init(.conflict, "not_queued", "\(job) is \(state): only a QUEUED job can be \(action)d")
        case .notPlaced(let state):
            self.init(
                .conflict,
                "not_running",
                "\(job) is \(state): only a job on a node (ALLOCATED, STARTING, RUNNING) can be requeued"
            )
        case .notHeld:
            self.init(.conflict, "not_held", "\(job) is not held; nothing to release")
        case .notAllowed(let message):
            self = .forbidden(message)
        case .alreadyStopping(let why):
            self.init(
                .conflict,
                "stopping",
                "\(job) is already being stopped (\(why)): it will not come back to the queue"
            )
        case .invalid(let field, let message):
            self = .badRequest(message, field: field)
        }
    }

    init(_ error: CredentialStore.Failure) {
        switch error {
        case .tokenNotFound(let prefix):
            self.init(
                .notFound,
                "token_not_found",
                "no token with prefix '\(prefix.prefix(32))': see corral tokens list"
            )
        case .ambiguousPrefix(let prefix, let count):
            self.init(.conflict, "ambiguous_prefix", "\(count) tokens share the prefix \(prefix.prefix(32))")
        }
    }
}

/// The router behind the error mapping: handlers throw domain errors, clients get the envelope. An error
/// nobody mapped is a fault of ours: logged here, a bare 500 for the client.
/// It also counts every request for /metrics, by route pattern (unknown paths as "unmatched").
struct MappingErrors: HTTPResponder {
    let router: Router
    let log: any LogSink
    let metrics: HTTPMetrics
    /// Every answer, an error's too, leaves once the commits it may tell of are on the disk.
    let walSync: WALSync

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        let start = ContinuousClock.now
        var route = "unmatched"
        func record(_ code: Int) {
            let elapsed = start.duration(to: .now)
            let (seconds, attoseconds) = elapsed.components
            metrics.record(route: route, code: code, seconds: Double(seconds) + Double(attoseconds) / 1e18)
        }
        do {
            let response = try await router.respond(to: request) { route = $0 ?? "unmatched" }
            await walSync.barrier()
            record(response.status.code)
            return response
        } catch {
            await walSync.barrier()
            let mapped = APIError(mapping: error)
            if mapped.status == .internalServerError || mapped.status == .insufficientStorage {
                log.error("\(request.method) \(request.path.prefix(200)): \(error)")
            }
            record(mapped.status.code)
            throw mapped
        }
    }
}
