import ClusterStore
import CorralSupport

/// Opens the controller's connections to its store, one for each owner: the cluster state's, the credentials'
/// (so checking a token never waits behind job work) and accounting's (long reads). Each is opened apart, at
/// its owner's start, and handed over whole.
struct Databases: Sendable {
    enum Owner: String {
        case state
        case credentials
        case accounting
        case logs
        case builds
    }

    private let sqlitePath: String?
    private let postgres: PGSettings?
    /// The leader's epoch that fences every transaction; nil for a standby's connections, which write nothing.
    private let epoch: Int64?

    /// One SQLite file. WAL lets the connections read at once; writes take turns. The state's commits are synced
    /// off its actor, and answers wait for that (`WALSync`); the others sync as they commit.
    init(sqlite path: String) {
        (sqlitePath, postgres, epoch) = (path, nil, 0)
    }

    /// PostgreSQL, as the leader of `epoch`: the database refuses every transaction once a newer leader exists.
    init(postgres settings: PGSettings, epoch: Int64) {
        (sqlitePath, postgres, self.epoch) = (nil, settings, epoch)
    }

    /// PostgreSQL, as a standby reading what the leader writes.
    init(standby settings: PGSettings) {
        var settings = settings
        settings.applicationName += "-standby"
        (sqlitePath, postgres, epoch) = (nil, settings, nil)
    }

    var isPostgres: Bool { postgres != nil }

    /// The agent builds: in the database on PostgreSQL (every controller's), else in the data directory.
    func agentBuilds(dataDir: String, log: any LogSink) throws -> AgentBuildStore {
        guard isPostgres else { return AgentBuildStore(dataDir: dataDir) }
        return AgentBuildStore(dataDir: dataDir, catalog: AgentBuildCatalog(database: try open(.builds), log: log))
    }

    func open(_ owner: Owner) throws -> ClusterDatabase {
        if var settings = postgres {
            settings.applicationName += "-" + owner.rawValue
            let database = try ClusterDatabase(postgres: settings)
            database.postgres?.fence = epoch.map(PGFence.init(epoch:))
            return database
        }
        var options = Connection.Options()
        if owner == .state { options.synchronous = .normal }
        return try ClusterDatabase(path: sqlitePath ?? "", options: options)
    }
}
