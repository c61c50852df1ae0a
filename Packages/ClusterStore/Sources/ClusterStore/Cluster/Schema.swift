/// The cluster's tables, as ordered migrations. Never edit a migration that has shipped: add a new one.
enum Schema {
    static let migrations: [Migration] = [
        Migration(
            id: "0001-initial",
            sql: """
                CREATE TABLE nodes (
                    id TEXT PRIMARY KEY,
                    hostname TEXT NOT NULL,
                    cpus INTEGER NOT NULL,
                    memory INTEGER NOT NULL,
                    labels TEXT NOT NULL DEFAULT '{}',
                    status TEXT NOT NULL,
                    drained INTEGER NOT NULL DEFAULT 0,
                    drain_reason TEXT,
                    boot_id TEXT,
                    registered_at INTEGER NOT NULL,
                    last_heartbeat INTEGER NOT NULL
                ) STRICT;
                CREATE TABLE gpus (
                    node_id TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
                    idx INTEGER NOT NULL,
                    uuid TEXT NOT NULL,
                    name TEXT NOT NULL,
                    memory_mib INTEGER,
                    healthy INTEGER NOT NULL,
                    PRIMARY KEY (node_id, idx)
                ) STRICT;
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY,
                    user TEXT NOT NULL,
                    name TEXT NOT NULL,
                    queue TEXT NOT NULL,
                    state TEXT NOT NULL,
                    pending_reason TEXT,
                    message TEXT,
                    priority INTEGER NOT NULL,
                    submitted_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    retries_used INTEGER NOT NULL DEFAULT 0,
                    infra_retries_used INTEGER NOT NULL DEFAULT 0,
                    spec TEXT NOT NULL
                ) STRICT;
                CREATE INDEX jobs_by_state ON jobs(state);
                CREATE INDEX jobs_by_user ON jobs(user, submitted_at);
                CREATE TABLE attempts (
                    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    number INTEGER NOT NULL,
                    node_id TEXT NOT NULL,
                    gpu_indices TEXT NOT NULL,
                    gpus INTEGER NOT NULL,
                    cpus INTEGER NOT NULL,
                    memory INTEGER NOT NULL,
                    allocated_at INTEGER NOT NULL,
                    started_at INTEGER,
                    ended_at INTEGER,
                    pid INTEGER,
                    exit_code INTEGER,
                    signal INTEGER,
                    exit_message TEXT,
                    timed_out INTEGER NOT NULL DEFAULT 0,
                    final_state TEXT,
                    PRIMARY KEY (job_id, number)
                ) STRICT;
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    job_id TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    from_state TEXT,
                    to_state TEXT,
                    reason TEXT NOT NULL,
                    node_id TEXT,
                    at INTEGER NOT NULL,
                    applied INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX events_by_job ON events(job_id, id);
                CREATE TABLE credentials (
                    hash TEXT PRIMARY KEY,
                    prefix TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    revoked INTEGER NOT NULL DEFAULT 0
                ) STRICT;
                CREATE INDEX credentials_by_subject ON credentials(kind, subject);
                """
        ),
        Migration(
            id: "0002-revoked-nodes-and-token-use",
            sql: """
                ALTER TABLE nodes ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE credentials ADD COLUMN last_used_at INTEGER;
                """
        ),
        Migration(
            id: "0003-usage-and-gpu-topology",
            sql: """
                ALTER TABLE attempts ADD COLUMN usage TEXT;
                ALTER TABLE nodes ADD COLUMN gpu_topology TEXT;
                """
        ),
        // A placed job asked to stop keeps its state until its processes are gone, so the request must survive
        // a controller restart; and the lease a node's agent may hold must too (a controller restarted with a
        // shorter one still waits for it before it runs the node's jobs elsewhere).
        Migration(
            id: "0004-stop-requests-and-agent-leases",
            sql: """
                ALTER TABLE jobs ADD COLUMN stop_request TEXT;
                ALTER TABLE nodes ADD COLUMN agent_lease_ms INTEGER;
                """
        ),
        // Jobs run as their users' Unix accounts: the account a job runs as, the one a token maps its user to,
        // how a node contains its jobs, and whether an attempt ended out of memory.
        Migration(
            id: "0005-unix-accounts-and-containment",
            sql: """
                ALTER TABLE jobs ADD COLUMN unix_user TEXT;
                ALTER TABLE credentials ADD COLUMN unix_user TEXT;
                ALTER TABLE nodes ADD COLUMN containment TEXT;
                ALTER TABLE attempts ADD COLUMN out_of_memory INTEGER NOT NULL DEFAULT 0;
                """
        ),
        // Gang jobs and arrays: a task's array and index, a gang attempt's ranks, and the address other nodes
        // reach a node at (a gang's MASTER_ADDR).
        Migration(
            id: "0006-gangs-and-arrays",
            sql: """
                ALTER TABLE jobs ADD COLUMN array_task TEXT;
                ALTER TABLE attempts ADD COLUMN gang TEXT;
                ALTER TABLE nodes ADD COLUMN address TEXT;
                """
        ),
        // A job retried after its own failure waits out a backoff: until when.
        Migration(
            id: "0007-retry-backoff",
            sql: """
                ALTER TABLE jobs ADD COLUMN not_before INTEGER;
                """
        ),
        // Nodes that joined with the join token while node approval was on wait for an admin's approval.
        Migration(
            id: "0008-node-approval",
            sql: """
                ALTER TABLE nodes ADD COLUMN approved INTEGER NOT NULL DEFAULT 1;
                """
        ),
        // Preemption: how often a job was preempted, and for which job an attempt was stopped.
        Migration(
            id: "0009-preemption",
            sql: """
                ALTER TABLE jobs ADD COLUMN preemptions INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE attempts ADD COLUMN preempted_by TEXT;
                """
        ),
        // Job control (issue 17): a held job's hold (who, whether an admin, when), as JSON.
        Migration(
            id: "0010-job-hold",
            sql: """
                ALTER TABLE jobs ADD COLUMN hold TEXT;
                """
        ),
        // Idempotency-Key on POST /v1/jobs (issue 16): a retried submission gets the job its first try made.
        Migration(
            id: "0011-idempotency-keys",
            sql: """
                CREATE TABLE idempotency_keys (
                    user TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    job_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (user, key)
                ) WITHOUT ROWID;
                CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
                """
        ),
        // Finished jobs are read from here, not memory (issue 16): accounting asks by submission time and by
        // last change, the controller's start for the most recently changed finished ones, and a user's listing
        // pages their jobs newest first (an index on user alone is in rowid order within each user: no sort).
        Migration(
            id: "0012-jobs-by-time",
            sql: """
                CREATE INDEX jobs_by_submission ON jobs(submitted_at);
                CREATE INDEX jobs_by_update ON jobs(updated_at);
                CREATE INDEX jobs_by_owner ON jobs(user);
                """
        ),
        // Agent self-update (issue 20): which agent build each node runs, by version and SHA-256.
        Migration(
            id: "0013-agent-builds",
            sql: """
                ALTER TABLE nodes ADD COLUMN agent_version TEXT;
                ALTER TABLE nodes ADD COLUMN agent_build TEXT;
                """
        ),
    ]
}
