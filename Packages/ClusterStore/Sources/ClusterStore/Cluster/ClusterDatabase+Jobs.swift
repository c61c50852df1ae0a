public import ClusterCore

/// Reading jobs back. The controller keeps its live jobs and only the newest finished ones in memory (issue 16):
/// it loads those at start, and reads any other job, a page of a listing, accounting and fair share from here.
extension ClusterDatabase {
    /// The states a job ends in, and the others, as stored (`IN` a list can use the state index; `NOT IN` not).
    static let finishedStates = "('SUCCEEDED', 'FAILED', 'LOST', 'CANCELED')"
    static let liveStates = "('QUEUED', 'ALLOCATED', 'STARTING', 'RUNNING')"

    /// Every job with its attempts, in submission order (tests and tools; the controller loads a window).
    public func loadJobs() throws -> [Job] {
        var attempts: [JobID: [Attempt]] = [:]
        try connection.forEachRow("SELECT * FROM attempts ORDER BY job_id, number") { row in
            attempts[JobID(row.string("job_id") ?? ""), default: []].append(try Self.attempt(from: row))
        }
        var jobs: [Job] = []
        try connection.forEachRow("SELECT * FROM jobs ORDER BY submitted_at, id") { row in
            var job = try Self.job(from: row)
            job.attempts = attempts[job.id] ?? []
            jobs.append(job)
        }
        return jobs
    }

    /// What the controller keeps at start: every job that has not ended, every ended one whose last attempt
    /// has not (its processes may still run), and the `finished` most recently updated others; in submission
    /// order.
    public func loadJobs(finishedWindow finished: Int) throws -> [Job] {
        let kept = """
            state IN \(Self.liveStates)
                OR id IN (SELECT job_id FROM attempts WHERE ended_at IS NULL)
                OR \(dialect.order) IN (SELECT \(dialect.order) FROM jobs WHERE state IN \(Self.finishedStates)
                    ORDER BY updated_at DESC, \(dialect.order) DESC LIMIT ?)
            """
        // Run twice (the attempts, then the jobs): ties on `updated_at` are broken the same way both times.
        let window = [SQLValue.integer(Int64(max(0, finished)))]
        // The attempts in one query, not one per job: on PostgreSQL each is a round trip, and a takeover loads
        // every job kept (10,000 finished ones by default).
        var attempts: [JobID: [Attempt]] = [:]
        try connection.forEachRow(
            "SELECT * FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE \(kept)) ORDER BY job_id, number",
            window
        ) { row in
            attempts[JobID(row.string("job_id") ?? ""), default: []].append(try Self.attempt(from: row))
        }
        var jobs: [Job] = []
        var specs: [String: JobSpec] = [:]
        try connection.forEachRow("SELECT * FROM jobs WHERE \(kept) ORDER BY submitted_at, \(dialect.order)", window) {
            row in
            var job = try Self.job(from: row, specs: &specs)
            job.attempts = attempts[job.id] ?? []
            jobs.append(job)
        }
        return jobs
    }

    /// One job with its attempts; nil when there is none.
    public func loadJob(_ id: JobID) throws -> Job? {
        guard let row = try connection.queryOne("SELECT * FROM jobs WHERE id = ?", [.text(id.rawValue)]) else {
            return nil
        }
        var job = try Self.job(from: row)
        job.attempts = try attempts(of: id)
        return job
    }

    private func attempts(of id: JobID) throws -> [Attempt] {
        try connection.query("SELECT * FROM attempts WHERE job_id = ? ORDER BY number", [.text(id.rawValue)])
            .map { row in try Self.attempt(from: row) }
    }

    /// How many jobs are in each state, all of them.
    public func jobCounts() throws(StoreError) -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for row in try connection.query("SELECT state, count(*) AS n FROM jobs GROUP BY state") {
            guard let state = row.string("state").flatMap(JobState.init(rawValue:)) else { continue }
            counts[state] = row.int("n") ?? 0
        }
        return counts
    }

    /// What a listing asks of the stored jobs; nil fields do not filter.
    public struct JobFilter: Sendable {
        public var states: Set<JobState>?
        public var user: String?
        public var queue: String?
        public var name: String?
        /// Ids that start with this (an array's tasks: `<array>_`); the id alphabet has no GLOB wildcard.
        public var idPrefix: String?
        public init() {}
    }

    /// Streams the ids of the jobs that match, newest submission first, starting after `cursor` (from the newest
    /// when it is nil or unknown); `body` returns false to stop.
    public func forEachJobID(
        _ filter: JobFilter,
        after cursor: JobID?,
        _ body: (JobID) throws -> Bool
    ) throws {
        var conditions = ["\(dialect.order) < ?"]
        var bindings: [SQLValue] = []
        var before = Int64.max
        if let cursor,
            let row = try connection.queryOne(
                "SELECT \(dialect.order) AS position FROM jobs WHERE id = ?",
                [.text(cursor.rawValue)]
            ),
            let rowid = row.int64("position")
        {
            before = rowid
        }
        bindings.append(.integer(before))
        if let states = filter.states {
            conditions.append("state IN (\(states.map { _ in "?" }.joined(separator: ", ")))")
            bindings += states.sorted { $0.rawValue < $1.rawValue }.map { .text($0.rawValue) }
        }
        for (column, value) in [("\"user\"", filter.user), ("queue", filter.queue), ("name", filter.name)] {
            guard let value else { continue }
            conditions.append("\(column) = ?")
            bindings.append(.text(value))
        }
        if let prefix = filter.idPrefix {
            guard Self.plain(prefix) else { return }
            conditions.append(dialect.startsWith("id"))
            bindings.append(dialect.prefixPattern(prefix))
        }
        // In pages of 500 from the last position seen: a PostgreSQL result is read whole before the first row is
        // handed on, so one query over every job would read a million ids for a listing of 100.
        let sql = """
            SELECT id, \(dialect.order) AS position FROM jobs WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(dialect.order) DESC LIMIT 500
            """
        while true {
            var last: Int64?
            var stopped = false
            var count = 0
            try connection.streamRows(sql, bindings) { row in
                count += 1
                last = row.int64("position")
                guard try body(JobID(row.string("id") ?? "")) else {
                    stopped = true
                    return false
                }
                return true
            }
            guard !stopped, count == 500, let last else { return }
            bindings[0] = .integer(last)
        }
    }

    /// Whether text matches only itself in a GLOB pattern (ids have no wildcard; anything else finds nothing).
    static func plain(_ text: String) -> Bool { !text.contains { "*?[]".contains($0) } }

    /// Ids starting with `prefix`, of `user`'s jobs when given, at most `limit` of them (a user's short form of
    /// an id: another user's array sharing the prefix must not crowd theirs out).
    public func jobIDs(withPrefix prefix: String, user: String? = nil, limit: Int) throws(StoreError) -> [JobID] {
        guard Self.plain(prefix) else { return [] }
        var bindings: [SQLValue] = [dialect.prefixPattern(prefix)]
        if let user { bindings.append(.text(user)) }
        bindings.append(.integer(Int64(limit)))
        return try connection.query(
            // `+user`: through the id index (a range for the prefix), not every job of the user's.
            """
            SELECT id FROM jobs WHERE \(dialect.startsWith("id"))\
            \(user == nil ? "" : " AND \(dialect.unindexed("\"user\"")) = ?") LIMIT ?
            """,
            bindings
        ).map { JobID($0.string("id") ?? "") }
    }

    /// Whether a job with this id is stored.
    public func hasJob(_ id: JobID) throws(StoreError) -> Bool {
        try connection.queryOne("SELECT 1 FROM jobs WHERE id = ?", [.text(id.rawValue)]) != nil
    }

    /// Streams the jobs submitted or changed at or after `since` and those not ended, of `user` when given, in
    /// submission order: every job that may have run since then (accounting). Each comes with its attempts
    /// (one query for all) and a spec that holds only its name and queue, from their columns: accounting reads
    /// no more of it, and decoding a million specs' JSON was most of the time of a week's usage.
    public func forEachAccountedJob(activeSince since: Timestamp, user: String?, _ body: (Job) throws -> Void) throws {
        // The jobs by the indexes on submission, last change and state (an IN list SQLite sorts by rowid), then
        // each with its attempts, in rowid order without a sort of the rows.
        var chosen = "jobs.submitted_at >= ? OR jobs.updated_at >= ? OR jobs.state IN \(Self.liveStates)"
        var bindings: [SQLValue] = [.integer(since.milliseconds), .integer(since.milliseconds)]
        if let user {
            chosen = "(\(chosen)) AND jobs.\"user\" = ?"
            bindings.append(.text(user))
        }
        let sql = """
            SELECT jobs.id, jobs."user", jobs.name, jobs.queue, jobs.state, jobs.submitted_at, jobs.updated_at,
                attempts.* FROM jobs LEFT JOIN attempts ON attempts.job_id = jobs.id
            WHERE jobs.\(dialect.order) IN (SELECT \(dialect.order) FROM jobs WHERE \(chosen))
            ORDER BY jobs.\(dialect.order), attempts.number
            """
        var current: Job?
        try connection.forEachRow(sql, bindings) { row in
            let id = JobID(row.string("id") ?? "")
            if current?.id != id {
                if let done = current { try body(done) }
                let spec = JobSpec(name: row.string("name") ?? "", command: [], queue: row.string("queue") ?? "")
                current = try Self.job(from: row, spec: spec)
            }
            if row.string("job_id") != nil { current?.attempts.append(try Self.attempt(from: row)) }
        }
        if let done = current { try body(done) }
    }

    /// Every attempt that held GPUs, ran and ended, with its job's user: fair share at start (attempts without
    /// GPUs count nothing; `FairShareUsage.record` takes them in any order).
    /// Read in pages of 5,000 along the attempts' key: PostgreSQL reads a whole result before its first row, and a
    /// cluster's every attempt could be millions of rows at once, at a takeover.
    public func forEachEndedAttempt(
        pageSize: Int = attemptPage,
        _ body: (_ user: String, _ attempt: Attempt) -> Void
    ) throws {
        var after: (job: String, number: Int64)?
        repeat {
            var bindings: [SQLValue] = []
            if let after { bindings = [.text(after.job), .integer(after.number)] }
            let page = try connection.query(
                """
                SELECT attempts.*, jobs."user" AS job_user FROM attempts JOIN jobs ON jobs.id = attempts.job_id
                WHERE attempts.gpus > 0 AND attempts.started_at IS NOT NULL AND attempts.ended_at IS NOT NULL
                    \(after == nil ? "" : "AND (attempts.job_id, attempts.number) > (?, ?)")
                ORDER BY attempts.job_id, attempts.number LIMIT \(max(1, pageSize))
                """,
                bindings
            )
            for row in page { body(row.string("job_user") ?? "", try Self.attempt(from: row)) }
            after = page.last.map { ($0.string("job_id") ?? "", $0.int64("number") ?? 0) }
            if page.count < max(1, pageSize) { break }
        } while true
    }

    public static let attemptPage = 5000

    /// A job row's identity, state and times, with the spec given (accounting's holds only its name and queue).
    static func job(from row: Row, spec: JobSpec) throws -> Job {
        let id = JobID(row.string("id") ?? "")
        var job = Job(
            id: id,
            spec: spec,
            user: row.string("user") ?? "",
            submittedAt: Timestamp(milliseconds: row.int64("submitted_at") ?? 0)
        )
        guard let state = JobState(rawValue: row.string("state") ?? "") else {
            throw StoreError.encoding("job \(id) has an unknown state '\(row.string("state") ?? "")'")
        }
        job.state = state
        job.updatedAt = Timestamp(milliseconds: row.int64("updated_at") ?? 0)
        return job
    }

    /// A job row with its spec decoded, and every field but its attempts.
    static func job(from row: Row) throws -> Job {
        var specs: [String: JobSpec] = [:]
        return try job(from: row, specs: &specs)
    }

    /// The same, with the specs decoded so far by their stored text: the jobs of an array, or of a sweep, share
    /// one spec, and decoding it was most of reading many jobs (a takeover, a standby's copy of the cluster).
    static func job(from row: Row, specs: inout [String: JobSpec]) throws -> Job {
        let text = row.string("spec") ?? ""
        let spec: JobSpec
        if let known = specs[text] {
            spec = known
        } else {
            spec = try StoredSpec.decode(StoredSpec.self, text).spec
            if specs.count < 10_000 { specs[text] = spec }
        }
        var job = try job(from: row, spec: spec)
        job.pendingReason = row.string("pending_reason").flatMap(PendingReason.init(rawValue:))
        job.message = row.string("message")
        job.unixUser = row.string("unix_user")
        job.notBefore = row.int64("not_before").map(Timestamp.init(milliseconds:))
        job.retriesUsed = row.int("retries_used") ?? 0
        job.infraRetriesUsed = row.int("infra_retries_used") ?? 0
        job.preemptions = row.int("preemptions") ?? 0
        if let text = row.string("stop_request") {
            job.stopRequest = try StoredSpec.decode(StoredStopRequest.self, text).request
        }
        if let text = row.string("hold") { job.hold = try StoredSpec.decode(StoredHold.self, text).hold }
        if let text = row.string("array_task") {
            job.array = try StoredSpec.decode(StoredArrayTask.self, text).task
        }
        return job
    }

    static func attempt(from row: Row) throws -> Attempt {
        var attempt = Attempt(
            number: row.int("number") ?? 0,
            node: NodeID(row.string("node_id") ?? ""),
            gpuIndices: (row.string("gpu_indices") ?? "").split(separator: ",").compactMap { Int($0) },
            resources: Resources(
                gpus: row.int("gpus") ?? 0,
                cpus: row.int("cpus") ?? 0,
                memory: row.int64("memory") ?? 0
            ),
            allocatedAt: Timestamp(milliseconds: row.int64("allocated_at") ?? 0)
        )
        attempt.startedAt = row.int64("started_at").map(Timestamp.init(milliseconds:))
        attempt.endedAt = row.int64("ended_at").map(Timestamp.init(milliseconds:))
        attempt.pid = row.int64("pid").map { Int32(truncatingIfNeeded: $0) }
        let code = row.int64("exit_code").map { Int32(truncatingIfNeeded: $0) }
        let signal = row.int64("signal").map { Int32(truncatingIfNeeded: $0) }
        let timedOut = row.bool("timed_out") ?? false
        if code != nil || signal != nil || timedOut || row.string("exit_message") != nil {
            attempt.exit = JobExit(
                code: code,
                signal: signal,
                message: row.string("exit_message"),
                timedOut: timedOut,
                outOfMemory: row.bool("out_of_memory") ?? false
            )
        }
        attempt.finalState = row.string("final_state").flatMap(JobState.init(rawValue:))
        attempt.preemptedBy = row.string("preempted_by").map(JobID.init)
        if let text = row.string("usage") { attempt.usage = try StoredSpec.decode(StoredUsage.self, text).usage }
        if let text = row.string("gang") { try StoredSpec.decode(StoredGang.self, text).apply(to: &attempt) }
        return attempt
    }
}

extension ClusterDatabase {
    /// The tasks of an array (`<array>_<index>`, through the primary key), in index order, with their states.
    public func arrayTaskStates(_ array: JobID) throws(StoreError) -> [(id: JobID, state: JobState)] {
        guard Self.plain(array.rawValue) else { return [] }
        let rows = try connection.query(
            "SELECT id, state FROM jobs WHERE \(dialect.startsWith("id"))",
            [dialect.prefixPattern(array.rawValue + "_")]
        )
        let tasks = rows.compactMap { row -> (id: JobID, state: JobState, index: Int)? in
            guard let id = row.string("id"), let state = row.string("state").flatMap(JobState.init(rawValue:)),
                let index = Int(id.dropFirst(array.rawValue.count + 1))
            else { return nil }
            return (JobID(id), state, index)
        }
        return tasks.sorted { $0.index < $1.index }.map { ($0.id, $0.state) }
    }
}
