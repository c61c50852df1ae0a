import ClusterCore
import ClusterWire
import HTTPKit

/// `POST /v1/jobs/batch` (issue 16): up to 1,000 jobs in one request and one transaction. Every entry is
/// checked first, as `POST /v1/jobs` checks one; the first bad one refuses the whole batch, naming its index
/// (`jobs[3].gpus`), and nothing is stored. `Idempotency-Key` applies to the batch as a whole.
extension API {
    func addBatchRoutes(to router: inout Router) {
        router.add(.post, "/v1/jobs/batch") { request in try await submitBatch(request) }
    }

    func submitBatch(_ request: HTTPRequest) async throws -> HTTPResponse {
        let principal = try user(request)
        let body = try decode(BatchSubmitRequest.self, request)
        guard (1...BatchSubmitRequest.maxJobs).contains(body.jobs.count) else {
            throw APIError.badRequest("give 1 to \(BatchSubmitRequest.maxJobs) jobs", field: "jobs")
        }
        let account = try settings.accounts.account(for: principal.subject, tokenAccount: principal.unixUser)
        var entries: [ClusterState.BatchEntry] = []
        for (index, entry) in body.jobs.enumerated() {
            do {
                guard entry.array == nil else {
                    throw SpecError(field: "array", message: "an array is submitted alone, with POST /v1/jobs")
                }
                let spec = try entry.toSpec()
                try state.checkQueue(spec.queue)
                try state.checkPriority(spec, for: principal)
                try await checkDependencies(of: spec, for: principal)
                entries.append(ClusterState.BatchEntry(spec: spec, hold: entry.hold == true))
            } catch let error as SpecError {
                throw SpecError(field: "jobs[\(index)].\(error.field)", message: error.message)
            } catch {
                let mapped = APIError(mapping: error)
                throw APIError(mapped.status, mapped.code, "jobs[\(index)]: \(mapped.message)")
            }
        }
        let jobs = try await state.submitBatch(
            entries,
            user: principal,
            unixUser: account,
            idempotency: try idempotencyKey(request)
        )
        return .json(WireJSON.encode(BatchSubmitResponse(jobs: jobs.map(JobView.init))), status: .created)
    }
}
