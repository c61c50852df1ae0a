public import ClusterCore
import ClusterStore
public import CorralSupport
import Glibc
import HTTPKit

/// The controller process: opens the state, makes sure the admin and cluster tokens exist, and runs its
/// long-lived parts as one task group (the HTTP server, the slow tick, the signal that stops them).
public final class Controller: Sendable {
    public let configuration: ControllerConfiguration
    let log: any LogSink
    let clock: any WallClock
    let state: ClusterState
    let credentials: CredentialStore
    let server: HTTPServer
    /// The API's responder; on PostgreSQL it replaces the standby's in `switchable` once this controller leads.
    let responder: any HTTPResponder
    let switchable: SwitchableResponder?
    /// The leadership on PostgreSQL; nil on SQLite (one controller).
    let election: LeaderElection?

    public init(
        configuration: ControllerConfiguration,
        log: any LogSink,
        clock: any WallClock = SystemClock()
    ) async throws {
        self.configuration = configuration
        self.log = log
        self.clock = clock
        if !configuration.tlsEnabled && !configuration.listensOnLoopback && !configuration.insecure {
            throw ConfigurationError(
                "refusing to serve plain HTTP on \(configuration.host):\(configuration.port): tokens would cross the "
                    + "network in the clear. Give --tls-cert and --tls-key (corral-controller tls init DIR makes a "
                    + "development CA and certificates), or --insecure if the network is trusted"
            )
        }
        try Files.makeDirectories(configuration.dataDir, mode: 0o700)
        let serverConfiguration = Self.serverConfiguration(configuration)
        let databases: Databases
        var early: HTTPServer?
        if let settings = try configuration.postgresSettings() {
            // Several controllers on one PostgreSQL: serve as a standby (sending clients to the leader) until this
            // one leads, then load the cluster from the database, every write fenced by the epoch won. One
            // server throughout, its responder switched when the API is ready: the port never closes.
            let gate = LeaderGate()
            let standby = StandbyResponder(gate: gate)
            // A standby answers reads from the database itself; without a connection yet, it sends them on.
            let reads = await StandbyReads.make(
                standby: standby,
                settings: settings,
                configuration: configuration,
                clock: clock,
                log: log
            )
            let switchable = SwitchableResponder(reads ?? standby)
            if reads == nil {
                // The database could not be read yet: try again every few seconds while standing by.
                Task { [configuration, clock, log] in
                    while !switchable.leading {
                        try? await Task.sleep(for: .seconds(5))
                        guard !switchable.leading else { return }
                        let made = await StandbyReads.make(
                            standby: standby,
                            settings: settings,
                            configuration: configuration,
                            clock: clock,
                            log: log
                        )
                        if let made {
                            switchable.offer(made)
                            return
                        }
                    }
                }
            }
            let server = HTTPServer(configuration: serverConfiguration, responder: switchable)
            try server.start()
            early = server
            var advertised = configuration
            advertised.port = server.port  // port 0 (tests): the one the kernel chose
            let election = LeaderElection(
                gate: gate,
                settings: settings,
                holder: "\(Self.hostname()):\(getpid())",
                address: advertised.advertisedURL,
                lease: configuration.leaderLease,
                log: log
            )
            let epoch = await election.lead()
            databases = Databases(postgres: settings, epoch: epoch)
            self.election = election
            self.switchable = switchable
        } else {
            databases = Databases(sqlite: configuration.databasePath)
            election = nil
            switchable = nil
        }
        state = try await ClusterState(
            settings: configuration,
            database: try databases.open(.state),
            clock: clock,
            log: log
        )
        credentials = try CredentialStore(database: try databases.open(.credentials), clock: clock, log: log)
        let api = try API.make(
            state: state,
            credentials: credentials,
            databases: databases,
            configuration: configuration,
            clock: clock,
            log: log
        )
        let responder = api.responder(log: log)
        self.responder = election.map { LeaderGated(inner: responder, gate: $0.gate) } ?? responder
        server = early ?? HTTPServer(configuration: serverConfiguration, responder: responder)
    }

    static func hostname() -> String {
        var name = [UInt8](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "controller" }
        return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func serverConfiguration(_ configuration: ControllerConfiguration) -> HTTPServerConfiguration {
        var serverConfiguration = HTTPServerConfiguration()
        serverConfiguration.host = configuration.host
        serverConfiguration.port = configuration.port
        serverConfiguration.maxBodyBytes = configuration.maxBodyBytes
        // Long polls last up to 60 s: keep idle connections longer than that.
        serverConfiguration.idleTimeout = .seconds(90)
        // One event loop per core, up to four: they share the port through SO_REUSEPORT.
        serverConfiguration.eventLoops = max(1, min(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 4))
        serverConfiguration.threadName = "corral-http"
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            serverConfiguration.tls = TLSConfiguration(
                certificateChainFile: certificate,
                privateKeyFile: key,
                clientCAFile: configuration.clientCA,
                requireClientCertificate: false  // users' CLIs need none; agents are checked per request
            )
        }
        return serverConfiguration
    }

    /// Creates (first start) or reads the admin and cluster tokens, and registers their hashes.
    func bootstrapTokens() async throws {
        for (path, kind, prefix) in [
            (configuration.adminTokenPath, CredentialKind.admin, "cru_"),
            (configuration.clusterTokenPath, CredentialKind.cluster, "crj_"),
        ] {
            let token: String
            if Files.exists(path) {
                token = try Files.readSecret(path).trimmingWhitespace()
            } else {
                token = SecureRandom.token(prefix: prefix, bytes: 24)
                try Files.writeAtomically(path, token + "\n", mode: 0o600)
                log.info("created the \(kind == .admin ? "admin" : "cluster join") token in \(path) (mode 0600)")
            }
            try await credentials.ensure(token: token, kind: kind, subject: kind == .admin ? "admin" : "cluster")
        }
    }

    /// Takes a rotated join token (`corral-controller rotate-join-token` rewrites DIR/cluster.token): from now
    /// on only the file's token registers new nodes. Registered nodes use their own tokens and notice nothing.
    func reloadJoinToken(_ known: inout String?) async {
        guard let text = try? Files.readSecret(configuration.clusterTokenPath), text != known else { return }
        let token = text.trimmingWhitespace()
        guard token.utf8.count >= 16 else {
            log.error("ignoring \(configuration.clusterTokenPath): not a join token (too short)")
            known = text
            return
        }
        do {
            try await credentials.ensure(token: token, kind: .cluster, subject: "cluster")
            known = text
            log.info("the cluster join token changed (\(configuration.clusterTokenPath)): the previous one is refused")
        } catch {
            log.error("cannot take the new join token: \(error)")
        }
    }

    /// Says once per step when the system clock has stepped away from the controller's steady clock by more
    /// than two seconds: times are kept by the monotonic clock until the next start (`SteadyClock`).
    func reportClockStep(_ reported: inout Duration) {
        guard let steady = clock as? SteadyClock else { return }
        let drift = steady.drift()
        let change = drift - reported
        guard change > .seconds(2) || change < .seconds(-2) else { return }
        reported = drift
        log.warning(
            "the system clock stepped: it is \(drift.milliseconds) ms off the controller's clock, which keeps "
                + "time by the monotonic clock (leases and node timeouts are unaffected) until the next start"
        )
    }

    /// Serves until SIGTERM or SIGINT.
    public func run() async throws {
        try await bootstrapTokens()
        // On PostgreSQL the server already serves (as a standby): from now on it is the leader's API.
        if let switchable { switchable.set(responder) } else { try server.start() }
        if configuration.insecure && !configuration.listensOnLoopback && !configuration.tlsEnabled {
            log.warning(
                "INSECURE: serving plain HTTP on \(configuration.host): every token crosses the network in the clear"
            )
        }
        let scheme = configuration.tlsEnabled ? "https" : "http"
        let endpoint = "\(scheme)://\(configuration.host):\(server.port)"
        try Files.writeAtomically(configuration.endpointPath, endpoint + "\n", mode: 0o644)
        log.info("listening on \(endpoint); data in \(configuration.dataDir)")
        await state.requestSchedulingPass()
        election?.keepLeading(epoch: election?.gate.epoch ?? 0) { [log] why in
            LeaderElection.endDeposed(why, log: log)
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                var second = 0
                var joinToken = try? Files.readSecret(configuration.clusterTokenPath)
                var reportedDrift = Duration.zero
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await state.tick()
                    second += 1
                    if second % 10 == 0 { await credentials.persistUse() }
                    if second % 5 == 0 { await reloadJoinToken(&joinToken) }
                    if second % 5 == 0 { reportClockStep(&reportedDrift) }
                }
            }
            group.addTask { [server] in await server.waitUntilStopped() }
            let signal = await Signals.wait()
            log.info("received signal \(signal): shutting down")
            server.shutdown()
            group.cancelAll()
        }
        await credentials.persistUse()
        await election?.resign()
    }
}
