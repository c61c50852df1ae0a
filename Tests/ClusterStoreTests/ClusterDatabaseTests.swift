import ClusterCore
import ClusterStore
import Foundation
import TestSupport
import Testing

@Suite struct ClusterDatabaseTests {
    static let t0 = Timestamp(milliseconds: 1_795_363_968_123)

    static func spec(_ n: Int = 0) -> JobSpec {
        JobSpec(
            name: "train-\(n)",
            command: ["python", "-c", "print('héllo wörld 🚀 日本語')", "", "--flag=a b"],
            cwd: "/home/ålice/プロジェクト",
            env: ["SEED": "\(n)", "EMPTY": "", "JSON": #"{"a": [1, "two"]}"#, "NEWLINES": "a\nb\r\nc\t"],
            queue: "gpu_long",
            resources: Resources(gpus: 8, cpus: 96, memory: Int64.max),
            gpuType: "H100",
            image: "nvcr.io/nvidia/pytorch:24.05-py3",
            timeLimit: n.isMultiple(of: 2) ? 3600 : nil,
            maxRetries: 3,
            priority: -42,
            labels: ["zone": "eu/west", "rack": "r-12"],
            dependsOn: [JobID("aaaa1111"), JobID("bbbb2222")]
        )
    }

    static func job(_ id: String, spec: JobSpec = spec(), submittedAt: Timestamp = t0, user: String = "alice") -> Job {
        Job(id: JobID(id), spec: spec, user: user, submittedAt: submittedAt)
    }

    static func node(_ id: String, gpus: Int) -> Node {
        var node = Node(
            id: NodeID(id),
            hostname: id + ".cluster.local",
            gpus: (0..<gpus).map {
                GPU(
                    index: $0,
                    uuid: "GPU-\(id)-\($0)",
                    name: "NVIDIA H100 80GB HBM3",
                    memoryMiB: 81_559,
                    healthy: $0 != 3
                )
            },
            cpus: 128,
            memory: 2 << 40,
            labels: ["zone": "eu", "ib": "yes"],
            status: .ready,
            drained: false,
            bootID: "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e",
            registeredAt: t0,
            lastHeartbeat: t0 + .seconds(5)
        )
        node.drainReason = nil
        return node
    }

    /// Runs `body` with a database file in a fresh directory; returns the file's path for reopening.
    static func withDatabase(_ body: (String) throws -> Void) throws {
        try withTemporaryDirectory { directory in try body(directory + "/cluster.sqlite") }
    }

    // MARK: Jobs

    @Test(arguments: SQLEngine.allCases) func insertAndReloadJobs(engine: SQLEngine) throws {
        try withStore(engine) { path in
            var jobs = [
                Self.job("job0", spec: Self.spec(0)),
                Self.job("job1", spec: Self.spec(1), submittedAt: Self.t0 + .seconds(1), user: "bøb"),
                Self.job(
                    "job2",
                    spec: JobSpec(command: ["true"]),
                    submittedAt: Timestamp(milliseconds: Self.t0.milliseconds - 10_000)
                ),
            ]
            jobs[1].message = "waiting for GPUs: ✓"
            jobs[2].pendingReason = nil
            do {
                let db = try path.open()
                for job in jobs { try db.insertJob(job) }
                // Ordered by submit time, then id.
                #expect(try db.loadJobs() == [jobs[2], jobs[0], jobs[1]])
            }
            let reopened = try path.open()
            let loaded = try reopened.loadJobs()
            #expect(loaded == [jobs[2], jobs[0], jobs[1]])
            #expect(loaded[1].spec.env["JSON"] == #"{"a": [1, "two"]}"#)
            #expect(loaded[1].spec.resources.memory == Int64.max)
            #expect(loaded[1].spec.timeLimit == 3600 && loaded[2].spec.timeLimit == nil)
        }
    }

    @Test(arguments: SQLEngine.allCases) func duplicateJobIDIsRefused(engine: SQLEngine) throws {
        let db = try freshDatabase(engine)
        try db.insertJob(Self.job("same"))
        let error = #expect(throws: StoreError.self) { try db.insertJob(Self.job("same")) }
        #expect(error.map { ResultCode.constraint ~= $0.code } == true)
        #expect(try db.loadJobs().count == 1)
    }

    @Test(arguments: SQLEngine.allCases) func updateThroughStatesWithAttempts(engine: SQLEngine) throws {
        try withStore(engine) { path in
            var job = Self.job("k3xq9mz2ab")
            var snapshots: [Job] = []
            do {
                let db = try path.open()
                try db.insertJob(job)

                // Attempt 1: placed, started, killed (137).
                job.state = .allocated
                job.pendingReason = nil
                job.attempts.append(
                    Attempt(
                        number: 1,
                        node: NodeID("gpu-1"),
                        gpuIndices: [0, 1, 2, 3, 4, 5, 6, 7],
                        resources: job.spec.resources,
                        allocatedAt: Self.t0 + .seconds(1)
                    )
                )
                job.updatedAt = Self.t0 + .seconds(1)
                try db.updateJob(job)
                job.state = .running
                job.attempts[0].startedAt = Self.t0 + .seconds(2)
                job.attempts[0].pid = 31_337
                try db.updateJob(job)
                job.state = .failed
                job.attempts[0].endedAt = Self.t0 + .seconds(100)
                job.attempts[0].exit = JobExit(code: 137, message: "killed")
                job.attempts[0].finalState = .failed
                job.attempts[0].usage = ResourceUsage(
                    cpuSeconds: 1234.5,
                    memoryBytes: 3 << 30,
                    peakMemoryBytes: 7 << 30,
                    gpuMemoryMiB: 81_000
                )
                job.message = "exit code 137 (SIGKILL: possibly out of memory)"
                try db.updateJob(job)
                #expect(try db.loadJobs() == [job])
                snapshots.append(job)

                // Retry: attempt 2 killed by a signal.
                job.state = .queued
                job.pendingReason = .resources
                job.retriesUsed = 1
                try db.updateJob(job)
                job.state = .running
                job.pendingReason = nil
                var second = Attempt(
                    number: 2,
                    node: NodeID("gpu-2"),
                    gpuIndices: [],
                    resources: Resources(gpus: 0, cpus: 1, memory: 0),
                    allocatedAt: Self.t0 + .seconds(200)
                )
                second.startedAt = Self.t0 + .seconds(201)
                second.pid = Int32.max
                job.attempts.append(second)
                try db.updateJob(job)
                job.state = .lost
                job.attempts[1].exit = JobExit(signal: 9)
                job.attempts[1].finalState = .lost
                job.infraRetriesUsed = 1
                try db.updateJob(job)

                // Attempt 3: timed out, no code, no message.
                job.state = .running
                var third = Attempt(
                    number: 3,
                    node: NodeID("gpu-1"),
                    gpuIndices: [3],
                    resources: Resources(gpus: 1, cpus: 2, memory: 1 << 30),
                    allocatedAt: Self.t0 + .seconds(300)
                )
                third.startedAt = Self.t0 + .seconds(301)
                job.attempts.append(third)
                try db.updateJob(job)
                job.state = .failed
                job.attempts[2].exit = JobExit(timedOut: true)
                job.attempts[2].endedAt = Self.t0 + .seconds(3901)
                job.attempts[2].finalState = .failed
                job.updatedAt = Self.t0 + .seconds(3901)
                job.message = "time limit reached"
                try db.updateJob(job)
                #expect(try db.loadJobs() == [job])
            }
            let loaded = try #require(try path.open().loadJobs().first)
            #expect(loaded == job)
            #expect(loaded.attempts.map(\.number) == [1, 2, 3])
            #expect(loaded.attempts[0].exit == JobExit(code: 137, message: "killed"))
            #expect(loaded.attempts[1].exit == JobExit(signal: 9))
            #expect(loaded.attempts[1].gpuIndices == [])
            #expect(loaded.attempts[1].pid == Int32.max)
            #expect(loaded.attempts[2].exit?.timedOut == true)
            #expect(loaded.attempts[0] == snapshots[0].attempts[0])
        }
    }

    @Test(arguments: SQLEngine.allCases) func updatingAnUnknownJobChangesNothing(engine: SQLEngine) throws {
        let db = try freshDatabase(engine)
        try db.insertJob(Self.job("known"))
        var ghost = Self.job("ghost")
        ghost.state = .running
        try? db.updateJob(ghost)
        #expect(try db.loadJobs().map(\.id) == [JobID("known")])
    }

    @Test(arguments: SQLEngine.allCases) func aRolledBackTransactionStoresNothing(engine: SQLEngine) throws {
        struct Abort: Error {}
        let db = try freshDatabase(engine)
        #expect(throws: Abort.self) {
            try db.transaction {
                try db.insertJob(Self.job("a"))
                try db.insertJob(Self.job("b"))
                throw Abort()
            }
        }
        #expect(try db.loadJobs().isEmpty)
        try db.transaction {
            for n in 0..<200 { try db.insertJob(Self.job(String(format: "job%03d", n), submittedAt: Self.t0)) }
        }
        let ids = try db.loadJobs().map(\.id.rawValue)
        #expect(ids.count == 200)
        #expect(ids == ids.sorted())
    }

    @Test(arguments: SQLEngine.allCases) func corruptRowsAreReportedNotGuessed(engine: SQLEngine) throws {
        let db = try freshDatabase(engine)
        try db.insertJob(Self.job("a"))
        try db.connection.run("UPDATE jobs SET state = 'EXPLODED' WHERE id = 'a'")
        let error = #expect(throws: StoreError.self) { try db.loadJobs() }
        #expect(error?.message.contains("EXPLODED") == true)
        try db.connection.run("UPDATE jobs SET state = 'QUEUED', spec = '{not json' WHERE id = 'a'")
        #expect(throws: StoreError.self) { try db.loadJobs() }
    }

    // MARK: Events

    @Test(arguments: SQLEngine.allCases) func eventsInOrderIncludingRefusedOnes(engine: SQLEngine) throws {
        try withStore(engine) { path in
            let a = JobID("aaa")
            let b = JobID("bbb")
            let records = [
                JobEventRecord(job: a, attempt: 0, from: nil, to: .queued, reason: "submitted", node: nil, at: Self.t0),
                JobEventRecord(
                    job: a,
                    attempt: 1,
                    from: .queued,
                    to: .allocated,
                    reason: "placed on gpu-1 with GPUs 0,1",
                    node: NodeID("gpu-1"),
                    at: Self.t0 + .milliseconds(3)
                ),
                JobEventRecord(job: b, attempt: 0, from: nil, to: .queued, reason: "submitted", node: nil, at: Self.t0),
                JobEventRecord(
                    job: a,
                    attempt: 1,
                    from: .allocated,
                    to: .canceled,
                    reason: "canceled by alice",
                    node: NodeID("gpu-1"),
                    at: Self.t0 + .milliseconds(3)
                ),
                JobEventRecord(
                    job: a,
                    attempt: 1,
                    from: .canceled,
                    to: .succeeded,
                    reason: "a job in CANCELED cannot take 'exited 0'",
                    node: NodeID("gpu-1"),
                    at: Self.t0 + .milliseconds(2),
                    applied: false
                ),
            ]
            do {
                let db = try path.open()
                for record in records { try db.appendEvent(record) }
                #expect(try db.events(of: a) == [records[0], records[1], records[3], records[4]])
            }
            let db = try path.open()
            let history = try db.events(of: a)
            // Insertion order, not time order: the refused event came last though its time is earlier.
            #expect(history == [records[0], records[1], records[3], records[4]])
            #expect(history.last?.applied == false)
            #expect(history.first?.from == nil)
            #expect(try db.events(of: b) == [records[2]])
            #expect(try db.events(of: JobID("none")).isEmpty)
        }
    }

    // MARK: Nodes

    @Test(arguments: SQLEngine.allCases) func nodesUpsertAndReload(engine: SQLEngine) throws {
        try withStore(engine) { path in
            var first = Self.node("gpu-1", gpus: 8)
            var second = Self.node("cpu-1", gpus: 0)
            second.gpus = []
            second.status = .unhealthy
            second.bootID = nil
            second.labels = [:]
            do {
                let db = try path.open()
                try db.saveNode(first)
                try db.saveNode(second)
                #expect(try db.loadNodes() == [second, first])
            }
            do {
                let db = try path.open()
                #expect(try db.loadNodes() == [second, first])
                // Re-saved with fewer GPUs (two fell off the bus), drained, new boot id: the GPU list is replaced.
                first.gpus = [
                    GPU(index: 0, uuid: "GPU-new-0", name: "NVIDIA H100 80GB HBM3", memoryMiB: nil, healthy: false),
                    GPU(index: 5, uuid: "GPU-new-5", name: "NVIDIA H100 80GB HBM3"),
                ]
                first.drained = true
                first.drainReason = "bad GPU 3: ECC errors"
                first.bootID = "new-boot"
                first.labels = ["zone": "us"]
                first.cpus = 64
                first.lastHeartbeat = Self.t0 + .seconds(600)
                try db.saveNode(first)
                #expect(try db.loadNodes() == [second, first])
            }
            let reloaded = try path.open().loadNodes()
            #expect(reloaded == [second, first])
            #expect(reloaded[1].gpus.map(\.index) == [0, 5])
            #expect(reloaded[1].gpus[0].memoryMiB == nil && !reloaded[1].gpus[0].healthy)
            #expect(reloaded[1].drainReason == "bad GPU 3: ECC errors")
        }
    }

    @Test(arguments: SQLEngine.allCases) func savingANodeTwiceDoesNotDuplicateIt(engine: SQLEngine) throws {
        let db = try freshDatabase(engine)
        let node = Self.node("n1", gpus: 4)
        for _ in 0..<3 { try db.saveNode(node) }
        #expect(try db.loadNodes() == [node])
        let count = try db.connection.queryOne("SELECT COUNT(*) AS n FROM gpus")?.int("n")
        #expect(count == 4)
    }

    // MARK: Credentials

    @Test(arguments: SQLEngine.allCases) func credentialsSaveReloadRevoke(engine: SQLEngine) throws {
        try withStore(engine) { path in
            let admin = Credential(
                hash: String(repeating: "a", count: 64),
                prefix: "crl_adm",
                kind: .admin,
                subject: "admin",
                createdAt: Self.t0
            )
            var user = Credential(
                hash: String(repeating: "b", count: 64),
                prefix: "crl_usr",
                kind: .user,
                subject: "alice",
                createdAt: Self.t0,
                expiresAt: Self.t0 + .seconds(86_400)
            )
            let nodeToken = Credential(
                hash: String(repeating: "c", count: 64),
                prefix: "crl_nod",
                kind: .node,
                subject: "gpu-1",
                createdAt: Self.t0
            )
            do {
                let db = try path.open()
                for credential in [admin, user, nodeToken] { try db.saveCredential(credential) }
            }
            do {
                let db = try path.open()
                #expect(Set(try db.loadCredentials()) == [admin, user, nodeToken])
                user.revoked = true
                user.expiresAt = nil
                try db.saveCredential(user)
            }
            let loaded = try path.open().loadCredentials()
            #expect(loaded.count == 3)
            #expect(Set(loaded) == [admin, user, nodeToken])
            let revoked = try #require(loaded.first { $0.subject == "alice" })
            #expect(revoked.revoked)
            #expect(!revoked.isUsable(at: Self.t0))
        }
    }

    @Test(arguments: SQLEngine.allCases) func credentialUpsertDoesNotRewriteItsIdentity(engine: SQLEngine) throws {
        let db = try freshDatabase(engine)
        let original = Credential(hash: "h1", prefix: "p1", kind: .user, subject: "alice", createdAt: Self.t0)
        try db.saveCredential(original)
        var forged = original
        forged.subject = "root"
        forged.kind = .admin
        forged.revoked = true
        try db.saveCredential(forged)
        let loaded = try db.loadCredentials()
        #expect(loaded.count == 1)
        #expect(loaded.first?.subject == "alice" && loaded.first?.kind == .user)
        #expect(loaded.first?.revoked == true)
    }

    // MARK: Hostile input

    static let hostile = [
        "'; DROP TABLE jobs; --",
        "\"); DELETE FROM nodes; --",
        "x' OR '1'='1",
        "Robert'); DROP TABLE credentials;--",
        "%_\\' \u{0}after-nul",
        "\u{202E}reversed\u{200B}",
    ]

    @Test(arguments: SQLEngine.allCases) func hostileStringsAreStoredLiterally(engine: SQLEngine) throws {
        // PostgreSQL's text cannot hold a NUL: there such a string is refused with a clear error, not cut short.
        let texts = engine == .sqlite ? Self.hostile : Self.hostile.filter { !$0.utf8.contains(0) }
        try withStore(engine) { path in
            if engine == .postgres {
                let db = try path.open()
                let error = #expect(throws: StoreError.self) { try db.insertJob(Self.job("nul", user: "a\u{0}b")) }
                #expect(error?.message.contains("NUL") == true)
                #expect(try db.loadJobs().isEmpty)
            }
            do {
                let db = try path.open()
                for (n, text) in texts.enumerated() {
                    var spec = Self.spec(n)
                    spec.command = ["echo", text]
                    spec.env = ["V": text]
                    spec.labels = ["k": text]
                    var job = Self.job(text, spec: spec, submittedAt: Self.t0 + .seconds(Int64(n)), user: text)
                    job.message = text
                    try db.insertJob(job)
                    try db.appendEvent(
                        JobEventRecord(
                            job: job.id,
                            attempt: 0,
                            from: nil,
                            to: .queued,
                            reason: text,
                            node: NodeID(text),
                            at: Self.t0
                        )
                    )
                    var node = Self.node("n\(n)", gpus: 1)
                    node.hostname = text
                    node.labels = [text: text]
                    node.gpus[0].name = text
                    try db.saveNode(node)
                    try db.saveCredential(
                        Credential(hash: text, prefix: text, kind: .user, subject: text, createdAt: Self.t0)
                    )
                }
            }
            let db = try path.open()
            let jobs = try db.loadJobs()
            #expect(jobs.map(\.id.rawValue) == texts)
            for (job, text) in zip(jobs, texts) {
                #expect(job.user == text && job.message == text)
                #expect(
                    job.spec.command == ["echo", text] && job.spec.env == ["V": text] && job.spec.labels == ["k": text]
                )
                let events = try db.events(of: job.id)
                #expect(events.map(\.reason) == [text])
                #expect(events.first?.node == NodeID(text))
            }
            let nodes = try db.loadNodes()
            #expect(nodes.count == texts.count)
            #expect(Set(nodes.map(\.hostname)) == Set(texts))
            #expect(Set(nodes.flatMap(\.gpus).map(\.name)) == Set(texts))
            #expect(Set(try db.loadCredentials().map(\.subject)) == Set(texts))
            let tables = try db.connection.query(
                engine == .sqlite
                    ? "SELECT name FROM sqlite_schema WHERE type = 'table'"
                    : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
            ).compactMap { $0.string("name") }
            #expect(Set(tables).isSuperset(of: ["jobs", "nodes", "gpus", "attempts", "events", "credentials"]))
        }
    }

    // MARK: Migrations

    /// Every migration of the cluster schema on `engine`, in order (a new one is added here too).
    static func migrations(_ engine: SQLEngine) -> [String] {
        engine == .sqlite ? migrations : ["0001-initial", "0002-job-logs", "0003-agent-builds"]
    }

    static let migrations = [
        "0001-initial", "0002-revoked-nodes-and-token-use", "0003-usage-and-gpu-topology",
        "0004-stop-requests-and-agent-leases", "0005-unix-accounts-and-containment", "0006-gangs-and-arrays",
        "0007-retry-backoff", "0008-node-approval", "0009-preemption", "0010-job-hold", "0011-idempotency-keys",
        "0012-jobs-by-time", "0013-agent-builds",
    ]

    /// A database written by the first release (only 0001) opens in this one: the new columns appear with
    /// their defaults and nothing is lost.
    @Test func aFirstReleaseDatabaseIsUpgradedInPlace() throws {
        try Self.withDatabase { path in
            do {
                let connection = try Connection(path: path)
                _ = try Migrator.migrate(connection, [Migration(id: Self.migrations[0], sql: Self.firstSchema)])
                try connection.run(
                    """
                    INSERT INTO nodes (id, hostname, cpus, memory, status, registered_at, last_heartbeat)
                    VALUES ('old-node', 'old', 4, 1024, 'READY', 1, 2)
                    """
                )
            }
            let db = try ClusterDatabase(path: path)
            #expect(try Migrator.appliedMigrations(db.connection) == Self.migrations)
            let nodes = try db.loadNodes()
            #expect(nodes.map(\.id) == [NodeID("old-node")])
            #expect(nodes.first?.revoked == false)
            // Nodes from before approval existed were all admitted.
            #expect(nodes.first?.approved == true)
            var waiting = try #require(nodes.first)
            waiting.approved = false
            try db.saveNode(waiting)
            #expect(try db.loadNodes().first?.approved == false)
        }
    }

    /// The 0001 schema as the first release shipped it (the nodes and credentials tables are what 0002 alters).
    static let firstSchema = """
        CREATE TABLE nodes (id TEXT PRIMARY KEY, hostname TEXT NOT NULL, cpus INTEGER NOT NULL,
            memory INTEGER NOT NULL, labels TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL,
            drained INTEGER NOT NULL DEFAULT 0, drain_reason TEXT, boot_id TEXT, registered_at INTEGER NOT NULL,
            last_heartbeat INTEGER NOT NULL) STRICT;
        CREATE TABLE gpus (node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
            uuid TEXT NOT NULL, name TEXT NOT NULL, memory_mib INTEGER, healthy INTEGER NOT NULL,
            PRIMARY KEY (node_id, idx)) STRICT;
        CREATE TABLE jobs (id TEXT PRIMARY KEY, user TEXT NOT NULL, name TEXT NOT NULL, queue TEXT NOT NULL,
            state TEXT NOT NULL, pending_reason TEXT, message TEXT, priority INTEGER NOT NULL,
            submitted_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, retries_used INTEGER NOT NULL DEFAULT 0,
            infra_retries_used INTEGER NOT NULL DEFAULT 0, spec TEXT NOT NULL) STRICT;
        CREATE TABLE attempts (job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, number INTEGER NOT NULL,
            node_id TEXT NOT NULL, gpu_indices TEXT NOT NULL, gpus INTEGER NOT NULL, cpus INTEGER NOT NULL,
            memory INTEGER NOT NULL, allocated_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER,
            pid INTEGER, exit_code INTEGER, signal INTEGER, exit_message TEXT, timed_out INTEGER NOT NULL DEFAULT 0,
            final_state TEXT, PRIMARY KEY (job_id, number)) STRICT;
        CREATE TABLE events (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL, from_state TEXT,
            to_state TEXT, reason TEXT NOT NULL, node_id TEXT, at INTEGER NOT NULL, applied INTEGER NOT NULL) STRICT;
        CREATE TABLE credentials (hash TEXT PRIMARY KEY, prefix TEXT NOT NULL, kind TEXT NOT NULL,
            subject TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER,
            revoked INTEGER NOT NULL DEFAULT 0) STRICT;
        """

    @Test(arguments: SQLEngine.allCases) func migrationsAreRecordedAndNotReapplied(engine: SQLEngine) throws {
        try withStore(engine) { path in
            do {
                let db = try path.open()
                #expect(try Migrator.appliedMigrations(db.connection) == Self.migrations(engine))
                try db.insertJob(Self.job("survivor"))
            }
            for _ in 0..<3 {
                let db = try path.open()
                #expect(try Migrator.appliedMigrations(db.connection) == Self.migrations(engine))
                let rows = try db.connection.query("SELECT id, applied_at FROM schema_migrations")
                #expect(rows.count == Self.migrations(engine).count)
                #expect((rows.first?.int64("applied_at") ?? 0) > 1_600_000_000)
                // Data written before the reopen is still there: the schema was not recreated.
                #expect(try db.loadJobs().map(\.id) == [JobID("survivor")])
            }
        }
    }

    @Test(arguments: SQLEngine.allCases) func aDatabaseFromANewerVersionIsRefused(engine: SQLEngine) throws {
        try withStore(engine) { path in
            do {
                let db = try path.open()
                try db.connection.run(
                    "INSERT INTO schema_migrations (id, applied_at) VALUES ('9999-future', 0)"
                )
            }
            let error = #expect(throws: StoreError.self) { try path.open() }
            #expect(error?.message.contains("9999-future") == true)
        }
    }

    @Test func aFileThatIsNotADatabaseIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/garbage.sqlite"
            let text = "this is not an SQLite database, just text that is long enough to look like a header"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: StoreError.self) { try ClusterDatabase(path: path) }
            #expect(throws: StoreError.self) { try ClusterDatabase(path: directory + "/no/such/dir/db.sqlite") }
        }
    }
}
