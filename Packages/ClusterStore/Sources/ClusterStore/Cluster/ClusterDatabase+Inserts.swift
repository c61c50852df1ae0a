public import ClusterCore

/// New rows many at a time: a group commit's submissions (jobs, their events, their idempotency keys) as a few
/// multi-row INSERTs rather than three statements a job. On PostgreSQL each statement is a round trip to the
/// server; on SQLite one statement less to step. Rows go in their order (events keep theirs by id).
extension ClusterDatabase {
    /// Rows per statement: a full chunk, then smaller ones for the rest, so that at most a handful of statement
    /// shapes are ever prepared (64 jobs are 1,216 parameters, far under either engine's limit).
    static let insertChunks = [64, 16, 4, 1]

    /// `INSERT INTO <head> VALUES (?, ...), (?, ...)` for `rows` of `width` values each.
    func insertRows(_ head: String, width: Int, _ rows: [[SQLValue]]) throws(StoreError) {
        var rest = rows[...]
        while !rest.isEmpty {
            let count = Self.insertChunks.first { $0 <= rest.count } ?? 1
            let placeholders = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
            let values = Array(repeating: placeholders, count: count).joined(separator: ", ")
            try connection.run("INSERT INTO \(head) VALUES \(values)", Array(rest.prefix(count).joined()))
            rest = rest.dropFirst(count)
        }
    }

    public func insertJobs(_ jobs: [Job]) throws(StoreError) {
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(jobs.count)
        for job in jobs {
            rows.append([
                .text(job.id.rawValue), .text(job.user), .text(job.spec.name), .text(job.spec.queue),
                .text(job.state.rawValue), SQLValue(job.pendingReason?.rawValue), SQLValue(job.message),
                SQLValue(job.spec.priority), .integer(job.submittedAt.milliseconds),
                .integer(job.updatedAt.milliseconds), SQLValue(job.retriesUsed), SQLValue(job.infraRetriesUsed),
                .text(try specJSON(job.spec)), try Self.stopRequest(job),
                SQLValue(job.unixUser),
                SQLValue(try job.array.map { task throws(StoreError) in try StoredArrayTask.json(task) }),
                SQLValue(job.notBefore?.milliseconds), SQLValue(job.preemptions), try Self.hold(job),
            ])
        }
        try insertRows(
            """
            jobs (id, "user", name, queue, state, pending_reason, message, priority, submitted_at, updated_at,
                retries_used, infra_retries_used, spec, stop_request, unix_user, array_task, not_before, preemptions,
                hold)
            """,
            width: 19,
            rows
        )
        for job in jobs { for attempt in job.attempts { try saveAttempt(attempt, of: job.id) } }
    }

    public func appendEvents(_ events: [JobEventRecord]) throws(StoreError) {
        try insertRows(
            "events (job_id, attempt, from_state, to_state, reason, node_id, at, applied)",
            width: 8,
            events.map { event in
                [
                    .text(event.job.rawValue), SQLValue(event.attempt), SQLValue(event.from?.rawValue),
                    SQLValue(event.to?.rawValue), .text(event.reason), SQLValue(event.node?.rawValue),
                    .integer(event.at.milliseconds), SQLValue(event.applied),
                ]
            }
        )
    }

    public func insertIdempotencyKeys(_ records: [IdempotencyRecord]) throws(StoreError) {
        try insertRows(
            "idempotency_keys (\"user\", key, request_hash, job_id, created_at)",
            width: 5,
            records.map { record in
                [
                    // A batch's ids, comma-separated (ids never hold one).
                    .text(record.user), .text(record.key), .text(record.requestHash),
                    .text(record.jobs.map(\.rawValue).joined(separator: ",")),
                    .integer(record.createdAt.milliseconds),
                ]
            }
        )
    }
}
