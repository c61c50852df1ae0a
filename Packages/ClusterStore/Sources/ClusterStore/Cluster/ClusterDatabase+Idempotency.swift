public import ClusterCore

/// A submission's `Idempotency-Key`, stored in the same transaction as the job it made: a client that
/// retries after a dropped answer (the controller killed between commit and answer) gets that job back.
public struct IdempotencyRecord: Hashable, Sendable {
    public var user: String
    public var key: String
    /// SHA-256 of the request body: the same key with another body is refused, not answered with this job.
    public var requestHash: String
    /// The job, or the array, it made.
    public var job: JobID
    public var createdAt: Timestamp

    public init(user: String, key: String, requestHash: String, job: JobID, createdAt: Timestamp) {
        self.user = user
        self.key = key
        self.requestHash = requestHash
        self.job = job
        self.createdAt = createdAt
    }
}

extension ClusterDatabase {
    public func insertIdempotencyKey(_ record: IdempotencyRecord) throws(StoreError) {
        try connection.run(
            "INSERT INTO idempotency_keys (user, key, request_hash, job_id, created_at) VALUES (?, ?, ?, ?, ?)",
            [
                .text(record.user), .text(record.key), .text(record.requestHash), .text(record.job.rawValue),
                .integer(record.createdAt.milliseconds),
            ]
        )
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
                    job: JobID(row.string("job_id") ?? ""),
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
