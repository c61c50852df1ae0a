/// `POST /v1/jobs/batch`: many jobs in one request, stored in one transaction (all or none), answered in the
/// order given. Each entry is a `SubmitJobRequest` without `array` (an array is one entry of `POST /v1/jobs`).
public struct BatchSubmitRequest: Codable, Hashable, Sendable {
    public static let maxJobs = 1000

    public var jobs: [SubmitJobRequest]

    public init(jobs: [SubmitJobRequest]) { self.jobs = jobs }

    private enum CodingKeys: String, CodingKey { case jobs }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(allowed: ["jobs"])
        jobs = try decoder.container(keyedBy: CodingKeys.self).decode([SubmitJobRequest].self, forKey: .jobs)
    }
}

/// The answer of `POST /v1/jobs/batch`: the jobs, in the order of the request.
public struct BatchSubmitResponse: Codable, Hashable, Sendable {
    public var jobs: [JobView]

    public init(jobs: [JobView]) { self.jobs = jobs }
}
