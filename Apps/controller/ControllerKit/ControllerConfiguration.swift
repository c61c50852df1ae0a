public import ClusterCore
import ClusterStore
import CorralSupport

/// How the controller runs. Precedence: defaults < config file < flags (DESIGN.md "Naming").
public struct ControllerConfiguration: Sendable, Hashable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8700
    public var dataDir: String = Files.home() + "/.corral/controller"
    /// A node silent for this long is lost.
    public var nodeTimeout: Duration = .seconds(30)
    /// An allocation whose agent has not accepted the launch within this long goes back to the queue.
    public var launchLease: Duration = .seconds(30)
    public var heartbeatInterval: Duration = .seconds(5)
    /// How long an agent that cannot reach the controller keeps running its jobs before it stops them itself
    /// (fencing). A job on a lost node is retried only after this, so it never runs twice at once.
    public var allocationLease: Duration = .seconds(120)
    /// Retries for failures that are not the job's fault (node lost, launch lease expired).
    public var infrastructureRetries: Int = 5
    /// The wait before the first retry of a job's own failure, doubling per retry up to five minutes.
    public var retryBackoff: Duration = .seconds(5)
    public var longPollSeconds: Int = 25
    public var maxBodyBytes: Int = 4 * 1024 * 1024
    /// Queues and the time limit backfill assumes, from `[queues.NAME]` tables and `default_time_limit`.
    public var policy: SchedulingPolicy = {
        var policy = SchedulingPolicy.standard
        _ = policy.use("shortest-first")
        return policy
    }()
    /// Which scheduling policy (`policy = "shortest-first"` in controller.toml, `--policy`): shortest-first by
    /// default since issue 15's replay; `fair-share` is the one before it (docs/scheduling.md).
    public var policyName = "shortest-first"
    /// Serve HTTPS with this certificate chain and key (PEM).
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Verify client certificates against this CA; with `requireAgentCertificate`, agents must present one
    /// whose common name is their node id (mTLS).
    public var clientCA: String?
    public var requireAgentCertificate = false
    /// A node id joining with the cluster join token for the first time waits for `corral nodes approve`
    /// before it is given work (`--approve-nodes`, `approve_nodes = true`).
    public var approveNodes = false
    /// Allow plain HTTP on an address other than loopback (tokens then cross the network in the clear).
    public var insecure = false
    /// Which Unix account each user's jobs run as (`[accounts]`, `--default-unix-user`, `--root-users`).
    public var accounts = AccountPolicy()
    /// Ports a gang's rank 0 may be told to listen on (`MASTER_PORT`), as Slurm's MpiParams=ports: one per gang
    /// whose rank 0 shares the node, never one another Corral gang there holds.
    public var gangPorts: ClosedRange<Int> = 29500...29999
    /// When a running job's GPUs count as idle (`idle_gpu_threshold`, `idle_gpu_window`).
    public var idleGPUs = IdleGPUPolicy()
    /// How many finished jobs memory keeps, the newest (`finished_jobs_in_memory`); the others are read from
    /// SQLite when asked for, as Slurm's MinJobAge hands them to its database (issue 16).
    public var finishedJobsInMemory = 10_000
    /// The cluster's state on PostgreSQL instead of DIR/corral.db: a postgres:// URL without its password, which
    /// comes from `databasePasswordFile` or libpq's own PGPASSWORD / ~/.pgpass (issue 19).
    public var database: String?
    public var databasePasswordFile: String?
    /// How long the leader's lease on PostgreSQL lasts without a renewal (renewed every third of it); a standby
    /// takes over once it has run out.
    public var leaderLease: Duration = .seconds(3)
    /// The URL clients and agents reach this controller at, which standbys point them to (default: from --listen).
    public var advertiseURL: String?

    public var tlsEnabled: Bool { tlsCertificate != nil && tlsKey != nil }

    /// Loopback only: 127.0.0.0/8, ::1, localhost.
    public var listensOnLoopback: Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    public init() {}

    public var databasePath: String { dataDir + "/corral.db" }

    /// The timing rules node liveness follows.
    public var liveness: LivenessSettings {
        LivenessSettings(
            nodeTimeout: nodeTimeout,
            launchLease: launchLease,
            allocationLease: allocationLease,
            heartbeatInterval: heartbeatInterval
        )
    }
    public var adminTokenPath: String { dataDir + "/admin.token" }
    public var clusterTokenPath: String { dataDir + "/cluster.token" }
    /// Written at start with the address actually bound (useful with port 0).
    public var endpointPath: String { dataDir + "/endpoint" }

    public static let usage = """
        usage: corral-controller [--config FILE] [--data-dir DIR] [--listen HOST:PORT]
                                 [--node-timeout SECONDS] [--launch-lease SECONDS] [--allocation-lease SECONDS]
                                 [--heartbeat-interval SECONDS] [--retry-backoff SECONDS]
                                 [--policy shortest-first|fair-share] [--finished-jobs-in-memory N]
                                 [--tls-cert FILE --tls-key FILE [--client-ca FILE] [--require-agent-certificate]]
                                 [--insecure] [--approve-nodes] [--default-unix-user ACCOUNT] [--root-users USER,...]
                                 [--database postgres://USER@HOST/DB [--database-password-file FILE]
                                  [--leader-lease SECONDS] [--advertise-url URL]]
               corral-controller rotate-join-token [--data-dir DIR]
               corral-controller agents publish FILE --version V [--arch ARCH] [--data-dir DIR]
               corral-controller agents list [--json] [--data-dir DIR]
               corral-controller tls init DIR --host NAME [--host ...] [--ip ADDR ...] [--client NODE ...] [--force]

        Runs the Corral controller: the JSON API, the scheduler and the cluster's state (an SQLite file in the
        data dir, or PostgreSQL with --database, where several controllers share it: one leads, the others stand by).
        On first start it writes DIR/admin.token and DIR/cluster.token (mode 0600).
        Defaults: --listen 127.0.0.1:8700, --data-dir ~/.corral/controller,
        config file /etc/corral/controller.toml when it exists. Off loopback it serves only HTTPS (give a
        certificate and key; `tls init` makes a development CA and certificates) unless --insecure is given.
        """

    /// Parses the command line (without the program name), reading the config file it names or the default one.
    public static func parse(_ arguments: [String]) throws(ConfigurationError) -> ControllerConfiguration {
        let flags: [String: String]
        do {
            flags = try readFlags(arguments)
        } catch {
            throw error.code == .helpRequested ? ConfigurationError.help : ConfigurationError(error.message)
        }
        if let url = flags["--database"], PGSettings(url: url).urlHasPassword {
            throw ConfigurationError(
                "--database must not hold a password (every user's ps shows a process's arguments): put it in "
                    + "--database-password-file FILE (mode 0600), PGPASSWORD or ~/.pgpass"
            )
        }
        var configuration = ControllerConfiguration()
        let file = flags["--config"] ?? "/etc/corral/controller.toml"
        if flags["--config"] != nil || Files.exists(file) {
            try configuration.apply(file: file)
        }
        try configuration.apply(flags: flags)
        guard configuration.policy.use(configuration.policyName) else {
            throw ConfigurationError(
                "policy must be one of \(SchedulingPolicy.names.joined(separator: ", ")), not '\(configuration.policyName)'"
            )
        }
        return configuration
    }

    /// The flags by name, as the config file's settings are (a switch as "true"); the last one given wins.
    static func readFlags(_ arguments: [String]) throws(UsageError) -> [String: String] {
        let known: Set<String> = [
            "--config", "--data-dir", "--listen", "--node-timeout", "--launch-lease", "--heartbeat-interval",
            "--allocation-lease", "--tls-cert", "--tls-key", "--client-ca", "--default-unix-user", "--root-users",
            "--retry-backoff", "--policy", "--finished-jobs-in-memory", "--database", "--database-password-file",
            "--leader-lease", "--advertise-url",
        ]
        let switches: Set<String> = ["--insecure", "--require-agent-certificate", "--approve-nodes"]
        var flags: [String: String] = [:]
        var reader = ArgumentReader(arguments)
        while let argument = try reader.next() {
            switch argument {
            case .option("--help"), .option("-h"): throw UsageError.helpRequested
            case .option(let flag) where switches.contains(flag): flags[flag] = "true"
            case .option(let flag) where known.contains(flag): flags[flag] = try reader.value(for: flag)
            // The controller takes no words: a stray one is refused like an unknown option, as it always was.
            case .option(let word), .positional(let word): throw UsageError.unknownOption(word)
            }
        }
        return flags
    }

    mutating func apply(file path: String) throws(ConfigurationError) {
        let table: TOMLTable
        do {
            table = try TOML.parse(try Files.read(path, limit: 1 << 20))
        } catch let error as TOMLError {
            throw ConfigurationError("\(path): \(error)")
        } catch {
            throw ConfigurationError("\(error)")
        }
        var values: [String: String] = [:]
        var minimumRuntime: Int?
        for key in table.keys {
            guard let value = table[key] else { continue }
            if key == "preemption_min_runtime" {
                guard case .integer(let seconds) = value, seconds >= 0, seconds <= 7 * 86_400 else {
                    throw ConfigurationError("\(path): preemption_min_runtime must be a number of seconds (0-604800)")
                }
                minimumRuntime = Int(seconds)
                continue
            }
            if try Self.idleSetting(key, value, into: &idleGPUs, path: path) { continue }
            if key == "accounts" {
                accounts = try Self.accounts(from: value, path: path)
                continue
            }
            if key == "queues" {
                policy = try Self.policy(from: value, defaultTimeLimit: policy.defaultTimeLimit, path: path)
                continue
            }
            if key == "default_time_limit" {
                guard case .integer(let seconds) = value, seconds > 0, seconds <= Int64(SpecLimits.maxTimeLimit) else {
                    throw ConfigurationError("\(path): default_time_limit must be a number of seconds")
                }
                var updated = SchedulingPolicy(queues: Array(policy.queues.values), defaultTimeLimit: Int(seconds))
                updated.defaultTimeLimit = Int(seconds)
                policy = updated
                continue
            }
            switch value {
            case .string(let text): values["--" + key.replacingUnderscores()] = text
            case .integer(let number): values["--" + key.replacingUnderscores()] = String(number)
            case .boolean(let flag): if flag { values["--" + key.replacingUnderscores()] = "true" }
            default: throw ConfigurationError("\(path): \(key) must be a string, a number or true/false")
            }
        }
        let allowed: Set<String> = [
            "--data-dir", "--listen", "--node-timeout", "--launch-lease", "--heartbeat-interval", "--allocation-lease",
            "--tls-cert", "--tls-key", "--client-ca", "--require-agent-certificate", "--insecure", "--retry-backoff",
            "--approve-nodes", "--policy", "--finished-jobs-in-memory", "--database", "--database-password-file",
            "--leader-lease", "--advertise-url",
        ]
        if let minimumRuntime { policy.preemptionMinRuntime = minimumRuntime }
        for key in values.keys where !allowed.contains(key) {
            throw ConfigurationError("\(path): unknown setting '\(key.dropFirst(2).replacingDashes())'")
        }
        do {
            try apply(flags: values)
        } catch {
            // The checks are the flags'; the words must be the file's: `path: node_timeout ...`, not `--node-timeout`.
            var message = error.message
            for flag in values.keys { message = message.replacing(flag, with: flag.dropFirst(2).replacingDashes()) }
            throw ConfigurationError("\(path): \(message)")
        }
    }

    mutating func apply(flags: [String: String]) throws(ConfigurationError) {
        if let dir = flags["--data-dir"] {
            guard dir.hasPrefix("/") else { throw ConfigurationError("--data-dir must be an absolute path") }
            dataDir = dir
        }
        if let listen = flags["--listen"] {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                (0...65535).contains(port), colon != listen.startIndex
            else { throw ConfigurationError("--listen takes HOST:PORT, for example 127.0.0.1:8700") }
            host = String(listen[..<colon])
            self.port = port
        }
        func seconds(_ flag: String) throws(ConfigurationError) -> Duration? {
            guard let text = flags[flag] else { return nil }
            guard let value = Double(text), value > 0, value <= 86400 else {
                throw ConfigurationError("\(flag) takes a number of seconds between 0 and 86400")
            }
            return .milliseconds(Int64(value * 1000))
        }
        if let value = try seconds("--node-timeout") { nodeTimeout = value }
        if let value = try seconds("--launch-lease") { launchLease = value }
        if let value = try seconds("--heartbeat-interval") { heartbeatInterval = value }
        if let value = try seconds("--allocation-lease") { allocationLease = value }
        if let text = flags["--retry-backoff"] {
            // Zero is allowed: retries at once, as before backoff existed.
            guard let value = Double(text), value >= 0, value <= 3600 else {
                throw ConfigurationError("--retry-backoff takes a number of seconds between 0 and 3600")
            }
            retryBackoff = .milliseconds(Int64(value * 1000))
        }
        for (flag, path) in [
            ("--tls-cert", flags["--tls-cert"]), ("--tls-key", flags["--tls-key"]),
            ("--client-ca", flags["--client-ca"]),
        ] where path != nil && !path!.hasPrefix("/") {
            throw ConfigurationError("\(flag) must be an absolute path")
        }
        if let value = flags["--tls-cert"] { tlsCertificate = value }
        if let value = flags["--tls-key"] { tlsKey = value }
        if let value = flags["--client-ca"] { clientCA = value }
        if flags["--require-agent-certificate"] == "true" { requireAgentCertificate = true }
        if flags["--insecure"] == "true" { insecure = true }
        if flags["--approve-nodes"] == "true" { approveNodes = true }
        if let name = flags["--policy"] { policyName = name }
        if let text = flags["--finished-jobs-in-memory"] {
            guard let count = Int(text), (0...10_000_000).contains(count) else {
                throw ConfigurationError("--finished-jobs-in-memory takes a number of jobs between 0 and 10000000")
            }
            finishedJobsInMemory = count
        }
        try applyAccountFlags(flags)
        try applyDatabaseFlags(flags, seconds: seconds)
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ConfigurationError("--tls-cert and --tls-key go together")
        }
        if requireAgentCertificate && (clientCA == nil || !tlsEnabled) {
            throw ConfigurationError("--require-agent-certificate needs TLS (--tls-cert, --tls-key) and --client-ca")
        }
        if let problem = liveness.problem {
            throw ConfigurationError("--allocation-lease and --heartbeat-interval do not fit: \(problem)")
        }
    }
}

extension ControllerConfiguration {
    /// `[queues.NAME]` tables: priority, node_selector (a table of labels), max_running_gpus_per_user,
    /// default_time_limit (seconds), topology_label, preemptible, max_priority.
    static func policy(
        from value: TOMLValue,
        defaultTimeLimit: Int,
        path: String
    ) throws(ConfigurationError)
        -> SchedulingPolicy
    {
        guard case .table(let table) = value else {
            throw ConfigurationError("\(path): queues must be tables such as [queues.default]")
        }
        var queues: [QueueConfig] = []
        for name in table.keys {
            guard JobSpec.isSimpleName(name) else {
                throw ConfigurationError("\(path): queue name '\(name)' must be 1-63 letters, digits, '-' or '_'")
            }
            guard case .table(let settings) = table[name] else {
                throw ConfigurationError("\(path): [queues.\(name)] must be a table")
            }
            var queue = QueueConfig(name: name)
            for key in settings.keys {
                let setting = settings[key]
                switch (key, setting) {
                case ("priority", .integer(let number)?) where abs(number) <= 1_000_000:
                    queue.priority = Int(number)
                case ("preemptible", .boolean(let flag)?):
                    queue.preemptible = flag
                case ("max_priority", .integer(let number)?) where SpecLimits.priorityRange.contains(Int(number)):
                    queue.maxPriority = Int(number)
                case ("idle_cancel_after", .integer(let seconds)?) where seconds >= 0 && seconds <= 7 * 86_400:
                    queue.idleCancelAfter = Int(seconds)
                case ("max_running_gpus_per_user", .integer(let number)?) where number >= 0:
                    queue.maxRunningGPUsPerUser = Int(number)
                case ("default_time_limit", .integer(let number)?) where number > 0:
                    queue.defaultTimeLimit = Int(number)
                case ("topology_label", .string(let label)?)
                where (1...63).contains(label.count)
                    && label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0)) }):
                    queue.topologyLabel = label
                case ("node_selector", .table(let labels)?):
                    for label in labels.keys {
                        guard case .string(let text) = labels[label] else {
                            throw ConfigurationError("\(path): queues.\(name).node_selector.\(label) must be a string")
                        }
                        queue.nodeSelector[label] = text
                    }
                default:
                    throw ConfigurationError("\(path): queues.\(name).\(key) is unknown or has a bad value")
                }
            }
            queues.append(queue)
        }
        return SchedulingPolicy(queues: queues, defaultTimeLimit: defaultTimeLimit)
    }
}

public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let isHelp: Bool
    public init(_ message: String, isHelp: Bool = false) {
        self.message = message
        self.isHelp = isHelp
    }
    public static let help = ConfigurationError("", isHelp: true)
    public var description: String { message }
}

extension StringProtocol {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
    func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
