public import ClusterCore

/// A submission's `Idempotency-Key`, stored in the same transaction as the job it made: a client that
/// retries after a dropped answer (the controller killed between commit and answer) gets that job back.
public struct IdempotencyRecord: Hashable, Sendable {
    public var user: String
    public var key: String
    /// SHA-256 of the request body: the same key with another body is refused, not answered with this job.
    public var requestHash: String
    /// The job or the array it made, or a batch's jobs in order (never empty).
    public var jobs: [JobID]
    public var createdAt: Timestamp

    public init(user: String, key: String, requestHash: String, jobs: [JobID], createdAt: Timestamp) {
        self.user = user
        self.key = key
        self.requestHash = requestHash
        self.jobs = jobs
        self.createdAt = createdAt
    }

    public init(user: String, key: String, requestHash: String, job: JobID, createdAt: Timestamp) {
        self.init(user: user, key: key, requestHash: requestHash, jobs: [job], createdAt: createdAt)
    }

    /// The job or array (a batch's first job).
    public var job: JobID { jobs.first ?? JobID("") }
}

extension ClusterDatabase {
    public func insertIdempotencyKey(_ record: IdempotencyRecord) throws(StoreError) {
        try insertIdempotencyKeys([record])
    }

    /// Keys from `since` on, oldest first; older ones are deleted (they are kept a day).
    public func loadIdempotencyKeys(since: Timestamp) throws -> [IdempotencyRecord] {
        try connection.run("DELETE FROM idempotency_keys WHERE created_at < ?", [.integer(since.milliseconds)])
        var records: [IdempotencyRecord] = []
        try connection.forEachRow("SELECT * FROM idempotency_keys ORDER BY created_at") { row in
            records.append(
                IdempotencyRecord(
                    user: row.string("user") ?? "",
                    key: row.string("key") ?? "",
                    requestHash: row.string("request_hash") ?? "",
                    jobs: (row.string("job_id") ?? "").split(separator: ",").map { JobID(String($0)) },
                    createdAt: Timestamp(milliseconds: row.int64("created_at") ?? 0)
                )
            )
        }
        return records
    }

    public func deleteIdempotencyKeys(before: Timestamp) throws(StoreError) {
        try connection.run("DELETE FROM idempotency_keys WHERE created_at < ?", [.integer(before.milliseconds)])
    }
}
