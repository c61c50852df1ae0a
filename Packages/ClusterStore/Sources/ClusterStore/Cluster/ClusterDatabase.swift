public import ClusterCore

/// The cluster's durable state in one SQLite file or one PostgreSQL database: nodes and their GPUs, jobs and
/// their attempts, the event log, and credentials. The controller keeps the live cluster in memory and writes
/// through to this; it reads everything back once, at start (and when it becomes the leader).
///
/// Both engines get the same statements (`SQLDialect` names the few differences) and schemas of the same
/// meaning, each with its own migration history (`Schema`, `PostgresSchema`).
///
/// Not Sendable: one owner (the controller's state actor, on its own serial executor) uses it.
public final class ClusterDatabase {
    public let connection: any SQLConnection
    let dialect: SQLDialect
    /// The last spec written and its JSON: the tasks of an array share one spec, and encoding it was most of
    /// the cost of storing 10,000 of them (`perf`, docs/PERFORMANCE.md).
    private var lastSpec: (spec: JobSpec, json: String)?

    /// Opens (creating if needed) and migrates the database at `path` (":memory:" for tests).
    public init(path: String, options: Connection.Options = .init()) throws(StoreError) {
        connection = try Connection(path: path, options: options)
        dialect = SQLDialect(engine: .sqlite)
        _ = try Migrator.migrate(connection, Schema.migrations)
    }

    /// Connects to (and migrates) the PostgreSQL database `settings` names.
    public init(postgres settings: PGSettings) throws(StoreError) {
        connection = try PGConnection(settings)
        dialect = SQLDialect(engine: .postgres)
        _ = try Migrator.migrate(connection, PostgresSchema.migrations)
    }

    /// The SQLite file, nil on PostgreSQL (whose commits are durable when they return: nothing to sync after).
    public var sqlitePath: String? { (connection as? Connection)?.path }

    /// The PostgreSQL connection, nil on SQLite.
    public var postgres: PGConnection? { connection as? PGConnection }

    /// Runs `body` in one transaction: everything in it is committed together (one fsync), or nothing.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try connection.transaction(.immediate, body)
    }

    /// Runs the reads of `body` on one state of the database, whatever commits meanwhile (a standby's copy of
    /// the cluster is read whole, not half before a leader's commit and half after).
    public func readingOneState<T>(_ body: () throws -> T) throws -> T {
        try connection.transaction(.snapshot, body)
    }

    // MARK: Jobs

    public func insertJob(_ job: Job) throws(StoreError) { try insertJobs([job]) }

    func specJSON(_ spec: JobSpec) throws(StoreError) -> String {
        if let last = lastSpec, last.spec == spec { return last.json }
        let json: String = try StoredSpec.encode(StoredSpec(spec))
        lastSpec = (spec, json)
        return json
    }

    /// Saves the job's mutable fields and the attempts named (by default its current one; a report on an
    /// older attempt names that one); its spec and priority too when `spec` (`corral update` changed them).
    public func updateJob(_ job: Job, attempts: Set<Int>? = nil, spec: Bool = false) throws(StoreError) {
        try connection.run(
            """
            UPDATE jobs SET state = ?, pending_reason = ?, message = ?, updated_at = ?, retries_used = ?,
                infra_retries_used = ?, stop_request = ?, not_before = ?, preemptions = ?, hold = ? WHERE id = ?
            """,
            [
                .text(job.state.rawValue), SQLValue(job.pendingReason?.rawValue), SQLValue(job.message),
                .integer(job.updatedAt.milliseconds), SQLValue(job.retriesUsed), SQLValue(job.infraRetriesUsed),
                try Self.stopRequest(job), SQLValue(job.notBefore?.milliseconds), SQLValue(job.preemptions),
                try Self.hold(job), .text(job.id.rawValue),
            ]
        )
        guard connection.changes == 1 else {
            throw StoreError(code: .notFound, message: "job \(job.id) is not in the database", sql: "UPDATE jobs")
        }
        if spec {
            try connection.run(
                "UPDATE jobs SET spec = ?, priority = ? WHERE id = ?",
                [
                    .text(try StoredSpec.encode(StoredSpec(job.spec))), SQLValue(job.spec.priority),
                    .text(job.id.rawValue),
                ]
            )
        }
        let numbers = attempts ?? Set(job.currentAttempt.map { [$0.number] } ?? [])
        for attempt in job.attempts where numbers.contains(attempt.number) { try saveAttempt(attempt, of: job.id) }
    }

    static func hold(_ job: Job) throws(StoreError) -> SQLValue {
        SQLValue(try job.hold.map { hold throws(StoreError) in try StoredSpec.encode(StoredHold(hold)) })
    }

    static func stopRequest(_ job: Job) throws(StoreError) -> SQLValue {
        SQLValue(
            try job.stopRequest.map { request throws(StoreError) in try StoredSpec.encode(StoredStopRequest(request)) }
        )
    }

    func saveAttempt(_ attempt: Attempt, of job: JobID) throws(StoreError) {
        try connection.run(
            """
            INSERT INTO attempts (job_id, number, node_id, gpu_indices, gpus, cpus, memory, allocated_at,
                started_at, ended_at, pid, exit_code, signal, exit_message, timed_out, final_state, usage,
                out_of_memory, gang, preempted_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (job_id, number) DO UPDATE SET started_at = excluded.started_at,
                ended_at = excluded.ended_at, pid = excluded.pid, exit_code = excluded.exit_code,
                signal = excluded.signal, exit_message = excluded.exit_message, timed_out = excluded.timed_out,
                final_state = excluded.final_state, usage = excluded.usage, out_of_memory = excluded.out_of_memory,
                gang = excluded.gang, preempted_by = excluded.preempted_by
            """,
            [
                .text(job.rawValue), SQLValue(attempt.number), .text(attempt.node.rawValue),
                .text(attempt.gpuIndices.map(String.init).joined(separator: ",")),
                SQLValue(attempt.resources.gpus), SQLValue(attempt.resources.cpus),
                .integer(attempt.resources.memory), .integer(attempt.allocatedAt.milliseconds),
                SQLValue(attempt.startedAt?.milliseconds), SQLValue(attempt.endedAt?.milliseconds),
                SQLValue(attempt.pid.map(Int64.init)), SQLValue(attempt.exit?.code.map(Int64.init)),
                SQLValue(attempt.exit?.signal.map(Int64.init)), SQLValue(attempt.exit?.message),
                SQLValue(attempt.exit?.timedOut ?? false), SQLValue(attempt.finalState?.rawValue),
                SQLValue(
                    try attempt.usage.map { usage throws(StoreError) in try StoredSpec.encode(StoredUsage(usage)) }
                ),
                SQLValue(attempt.exit?.outOfMemory ?? false),
                SQLValue(attempt.isGang ? try StoredSpec.encode(StoredGang(attempt)) : nil),
                SQLValue(attempt.preemptedBy?.rawValue),
            ]
        )
    }

    // MARK: Events

    public func appendEvent(_ event: JobEventRecord) throws(StoreError) { try appendEvents([event]) }

    /// The history of one job, oldest first (uses the events_by_job index, no scan).
    public func events(of job: JobID) throws(StoreError) -> [JobEventRecord] {
        try connection.query("SELECT * FROM events WHERE job_id = ? ORDER BY id", [.text(job.rawValue)]).map { row in
            JobEventRecord(
                job: job,
                attempt: row.int("attempt") ?? 0,
                from: row.string("from_state").flatMap(JobState.init(rawValue:)),
                to: row.string("to_state").flatMap(JobState.init(rawValue:)),
                reason: row.string("reason") ?? "",
                node: row.string("node_id").map(NodeID.init),
                at: Timestamp(milliseconds: row.int64("at") ?? 0),
                applied: row.bool("applied") ?? true
            )
        }
    }

    // MARK: Nodes

    /// Saves the node and replaces its GPU list, atomically (a savepoint when already in a transaction).
    public func saveNode(_ node: Node) throws {
        try connection.transaction(.immediate) { try saveNodeRows(node) }
    }

    private func saveNodeRows(_ node: Node) throws(StoreError) {
        try connection.run(
            """
            INSERT INTO nodes (id, hostname, cpus, memory, labels, status, drained, drain_reason, boot_id,
                registered_at, last_heartbeat, revoked, gpu_topology, agent_lease_ms, containment, address, approved,
                agent_version, agent_build)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, cpus = excluded.cpus,
                memory = excluded.memory, labels = excluded.labels, status = excluded.status,
                drained = excluded.drained, drain_reason = excluded.drain_reason, boot_id = excluded.boot_id,
                registered_at = excluded.registered_at, last_heartbeat = excluded.last_heartbeat,
                revoked = excluded.revoked, gpu_topology = excluded.gpu_topology,
                agent_lease_ms = excluded.agent_lease_ms, containment = excluded.containment,
                address = excluded.address, approved = excluded.approved,
                agent_version = excluded.agent_version, agent_build = excluded.agent_build
            """,
            [
                .text(node.id.rawValue), .text(node.hostname), SQLValue(node.cpus), .integer(node.memory),
                .text(try StoredSpec.encode(node.labels)), .text(node.status.rawValue), SQLValue(node.drained),
                SQLValue(node.drainReason), SQLValue(node.bootID), .integer(node.registeredAt.milliseconds),
                .integer(node.lastHeartbeat.milliseconds), SQLValue(node.revoked),
                SQLValue(try node.gpuTopology.map { links throws(StoreError) in try StoredSpec.encode(links) }),
                SQLValue(node.agentLease?.milliseconds), SQLValue(node.containment), SQLValue(node.address),
                SQLValue(node.approved), SQLValue(node.agentVersion), SQLValue(node.agentBuild),
            ]
        )
        try connection.run("DELETE FROM gpus WHERE node_id = ?", [.text(node.id.rawValue)])
        for gpu in node.gpus {
            try connection.run(
                "INSERT INTO gpus (node_id, idx, uuid, name, memory_mib, healthy) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(node.id.rawValue), SQLValue(gpu.index), .text(gpu.uuid), .text(gpu.name),
                    SQLValue(gpu.memoryMiB.map(Int64.init)), SQLValue(gpu.healthy),
                ]
            )
        }
    }

    public func loadNodes() throws -> [Node] {
        var gpus: [NodeID: [GPU]] = [:]
        try connection.forEachRow("SELECT * FROM gpus ORDER BY node_id, idx") { row in
            gpus[NodeID(row.string("node_id") ?? ""), default: []].append(
                GPU(
                    index: row.int("idx") ?? 0,
                    uuid: row.string("uuid") ?? "",
                    name: row.string("name") ?? "",
                    memoryMiB: row.int("memory_mib"),
                    healthy: row.bool("healthy") ?? true
                )
            )
        }
        var nodes: [Node] = []
        try connection.forEachRow("SELECT * FROM nodes ORDER BY id") { row in
            let id = NodeID(row.string("id") ?? "")
            var node = Node(
                id: id,
                hostname: row.string("hostname") ?? "",
                gpus: gpus[id] ?? [],
                cpus: row.int("cpus") ?? 0,
                memory: row.int64("memory") ?? 0,
                labels: try StoredSpec.decode([String: String].self, row.string("labels") ?? "{}"),
                status: NodeStatus(rawValue: row.string("status") ?? "") ?? .lost,
                drained: row.bool("drained") ?? false,
                bootID: row.string("boot_id"),
                registeredAt: Timestamp(milliseconds: row.int64("registered_at") ?? 0),
                lastHeartbeat: Timestamp(milliseconds: row.int64("last_heartbeat") ?? 0)
            )
            node.drainReason = row.string("drain_reason")
            node.revoked = row.bool("revoked") ?? false
            if let text = row.string("gpu_topology") { node.gpuTopology = try StoredSpec.decode([[String]].self, text) }
            node.agentLease = row.int64("agent_lease_ms").map { Duration.milliseconds($0) }
            node.containment = row.string("containment")
            node.address = row.string("address")
            node.approved = row.bool("approved") ?? true
            node.agentVersion = row.string("agent_version")
            node.agentBuild = row.string("agent_build")
            nodes.append(node)
        }
        return nodes
    }

    // MARK: Credentials

    public func saveCredential(_ credential: Credential) throws(StoreError) {
        try connection.run(
            """
            INSERT INTO credentials (hash, prefix, kind, subject, created_at, expires_at, revoked, last_used_at,
                unix_user)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (hash) DO UPDATE SET revoked = excluded.revoked, expires_at = excluded.expires_at,
                last_used_at = excluded.last_used_at
            """,
            [
                .text(credential.hash), .text(credential.prefix), .text(credential.kind.rawValue),
                .text(credential.subject), .integer(credential.createdAt.milliseconds),
                SQLValue(credential.expiresAt?.milliseconds), SQLValue(credential.revoked),
                SQLValue(credential.lastUsedAt?.milliseconds), SQLValue(credential.unixUser),
            ]
        )
    }

    public func loadCredentials() throws -> [Credential] {
        var credentials: [Credential] = []
        try connection.forEachRow("SELECT * FROM credentials") { row in
            guard let kind = CredentialKind(rawValue: row.string("kind") ?? "") else { return }
            credentials.append(
                Credential(
                    hash: row.string("hash") ?? "",
                    prefix: row.string("prefix") ?? "",
                    kind: kind,
                    subject: row.string("subject") ?? "",
                    createdAt: Timestamp(milliseconds: row.int64("created_at") ?? 0),
                    expiresAt: row.int64("expires_at").map(Timestamp.init(milliseconds:)),
                    revoked: row.bool("revoked") ?? false
                )
            )
            credentials[credentials.count - 1].lastUsedAt = row.int64("last_used_at").map(Timestamp.init(milliseconds:))
            credentials[credentials.count - 1].unixUser = row.string("unix_user")
        }
        return credentials
    }
}

@available(*, unavailable)
extension ClusterDatabase: Sendable {}

extension StoreError {
    static func encoding(_ message: String) -> StoreError {
        StoreError(code: .mismatch, message: message)
    }
}
