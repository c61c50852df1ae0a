import ClusterCore
public import CorralSupport
import FoundationEssentials
import HTTPKit
import NodeProbe

/// `corral-agent configure | start | probe | version`, parsed from `[String]` so tests can drive it.
public enum AgentCommand: Sendable, Equatable {
    case configure(ConfigureOptions)
    case start(configPath: String)
    case status(configPath: String)
    case stop(configPath: String)
    case preflight(configPath: String)
    case update(UpdateOptions)
    case service(action: String, configPath: String, dryRun: Bool)
    case probe(json: Bool, declaredGPUs: Int?)
    case version
    case help

    public struct UpdateOptions: Sendable, Equatable {
        public var configPath: String = AgentConfiguration.defaultPath
        public var version: String?
        public var restart = false
        public var rollback = false
    }

    public struct ConfigureOptions: Sendable, Equatable {
        public var configPath: String = AgentConfiguration.defaultPath
        public var endpoint: String?
        public var clusterToken: String?
        public var clusterTokenFile: String?
        public var nodeID: String?
        public var declareGPUs: Int?
        public var gpuName: String?
        public var stateDir: String?
        public var caFile: String?
        public var clientCertificate: String?
        public var clientKey: String?
        public var cpus: Int?
        public var memory: Int64?
        public var labels: [String: String] = [:]
        public var cgroupParent: String?
        public var allowUncontained = false
        public var deviceDir: String?
    }

    public static let usage = """
        usage: corral-agent <command> [options]

        commands:
          configure --endpoint URL --cluster-token-file FILE [--node-id ID] [--declare-gpus N] [--gpu-name NAME]
                    [--state-dir DIR] [--ca-file FILE] [--client-cert FILE --client-key FILE]
                    [--cpus N] [--memory SIZE] [--label KEY=VALUE]
                    [--cgroup-parent PATH] [--allow-uncontained] [--gpu-device-dir DIR]
                    [--config FILE]
                    writes ~/.corral/agent.toml (mode 0600); on a terminal it asks for what no flag gave;
                    --cluster-token - reads the token from stdin (--cluster-token TOKEN would show in ps)
          start [--config FILE]       registers this node and runs jobs until SIGTERM
          status [--config FILE]      is the agent running, is the controller reachable, which jobs run
          stop [--config FILE]        stops the running agent (its jobs keep running; a restarted agent adopts them)
          preflight [--config FILE]   checks the node can run jobs; exit 1 when a required check fails
          update [--version V] [--restart] [--config FILE]
                                      installs the newest agent build the controller publishes (or V), checked by
                                      SHA-256, keeping this one as corral-agent.previous; --restart restarts the
                                      running agent onto it (its jobs keep running)
          update --rollback [--restart]
                                      puts corral-agent.previous back
          service install|uninstall|status [--dry-run]
                                      a systemd unit that restarts the agent on failure
          probe [--json] [--declare-gpus N]
                                      prints what this node has (GPUs, CPUs, memory)
          version

        example:
          corral-agent configure --endpoint http://10.0.0.1:8700 --cluster-token-file cluster.token
          corral-agent start
        """

    /// A mistake comes as the agent's `ConfigurationFailure` (as a bad configuration file does), with the
    /// shared reader's message; `main` prints it and points at --help.
    public static func parse(_ arguments: [String]) throws(ConfigurationFailure) -> AgentCommand {
        var reader = ArgumentReader(arguments)
        do {
            return try parse(&reader)
        } catch {
            throw ConfigurationFailure(error.message)
        }
    }

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> AgentCommand {
        guard let command = try arguments.nextWord() else { return .help }
        switch command {
        case "configure":
            var configure = ConfigureOptions()
            while let argument = try arguments.next() {
                guard case .option(let flag) = argument, flag.hasPrefix("--") else { throw refused(argument) }
                switch flag {
                case "--config": configure.configPath = try arguments.value(for: flag)
                case "--endpoint": configure.endpoint = try arguments.value(for: flag)
                case "--cluster-token": configure.clusterToken = try arguments.value(for: flag)
                case "--cluster-token-file": configure.clusterTokenFile = try arguments.value(for: flag)
                case "--node-id": configure.nodeID = try arguments.value(for: flag)
                case "--declare-gpus": configure.declareGPUs = try arguments.integer(for: flag, in: 0...1024)
                case "--gpu-name": configure.gpuName = try arguments.value(for: flag)
                case "--state-dir": configure.stateDir = try arguments.value(for: flag)
                case "--ca-file": configure.caFile = try arguments.value(for: flag)
                case "--client-cert": configure.clientCertificate = try arguments.value(for: flag)
                case "--client-key": configure.clientKey = try arguments.value(for: flag)
                case "--cpus": configure.cpus = try arguments.integer(for: flag, in: 0...(1 << 16))
                case "--memory":
                    let bytes: Int64 = try arguments.value(for: flag, expecting: "a size such as 64G", ByteSize.parse)
                    configure.memory = bytes
                case "--label":
                    let (key, value) = try arguments.keyValue(for: flag)
                    configure.labels[key] = value
                case "--cgroup-parent":
                    configure.cgroupParent = try arguments.value(for: flag)
                    guard AgentConfiguration.isCgroupPath(configure.cgroupParent ?? "") else {
                        throw UsageError.malformedValue(
                            flag,
                            expected: "a relative cgroup path such as corral/jobs",
                            got: configure.cgroupParent ?? ""
                        )
                    }
                case "--allow-uncontained": configure.allowUncontained = true
                case "--gpu-device-dir": configure.deviceDir = try arguments.value(for: flag)
                default: throw UsageError.unknownOption(flag, for: "configure")
                }
            }
            return .configure(configure)
        case "start", "status", "stop", "preflight":
            var path = AgentConfiguration.defaultPath
            while let argument = try arguments.next() {
                guard case .option(let flag) = argument, flag.hasPrefix("--") else { throw refused(argument) }
                guard flag == "--config" else { throw UsageError.unknownOption(flag, for: command) }
                path = try arguments.value(for: flag)
            }
            switch command {
            case "start": return .start(configPath: path)
            case "status": return .status(configPath: path)
            case "stop": return .stop(configPath: path)
            default: return .preflight(configPath: path)
            }
        case "update":
            var options = UpdateOptions()
            while let argument = try arguments.next() {
                guard case .option(let flag) = argument, flag.hasPrefix("--") else { throw refused(argument) }
                switch flag {
                case "--config": options.configPath = try arguments.value(for: flag)
                case "--version": options.version = try arguments.value(for: flag)
                case "--restart": options.restart = true
                case "--rollback": options.rollback = true
                default: throw UsageError.unknownOption(flag, for: "update")
                }
            }
            if options.rollback && options.version != nil {
                throw UsageError("--rollback puts the previous binary back: give no --version with it")
            }
            return .update(options)
        case "service":
            guard let action = try arguments.nextWord(), ["install", "uninstall", "status"].contains(action) else {
                throw UsageError("usage: corral-agent service install|uninstall|status [--dry-run] [--config FILE]")
            }
            var path = AgentConfiguration.defaultPath
            var dryRun = false
            while let argument = try arguments.next() {
                guard case .option(let flag) = argument, flag.hasPrefix("--") else { throw refused(argument) }
                switch flag {
                case "--dry-run": dryRun = true
                case "--config": path = try arguments.value(for: flag)
                default: throw UsageError.unknownOption(flag, for: "service")
                }
            }
            return .service(action: action, configPath: path, dryRun: dryRun)
        case "probe":
            var json = false
            var declared: Int?
            while let argument = try arguments.next() {
                guard case .option(let flag) = argument, flag.hasPrefix("--") else { throw refused(argument) }
                switch flag {
                case "--json": json = true
                case "--declare-gpus": declared = try arguments.integer(for: flag, in: 0...1024)
                default: throw UsageError.unknownOption(flag, for: "probe")
                }
            }
            return .probe(json: json, declaredGPUs: declared)
        case "version", "--version": return .version
        case "help", "--help", "-h": return .help
        default: throw UsageError("unknown command '\(command)'")
        }
    }

    /// A word, or a short option: the agent's commands take long options only.
    private static func refused(_ argument: ArgumentReader.Argument) -> UsageError {
        switch argument {
        case .option(let word), .positional(let word): UsageError.unexpectedArgument(word)
        }
    }

    /// A job's supervisor (not in the usage: the agent starts it, people do not).
    public static func supervise(directory: String) -> Int32 { Supervisor.main(directory: directory) }

    /// The agent's supervisor zygote (not in the usage either).
    public static func superviseZygote() -> Int32 { SupervisorZygote.main() }

    /// Runs the command; returns the process exit code.
    public static func run(_ command: AgentCommand, log: any LogSink) async -> Int32 {
        switch command {
        case .help:
            FileHandleOutput.stdout(usage + "\n")
            return 0
        case .version:
            FileHandleOutput.stdout("corral-agent \(AgentVersion.current)\n")
            return 0
        case .configure(let options):
            return configure(options)
        case .probe(let json, let declared):
            let inventory = NodeProber(nvml: NVML()).probe(declaredGPUs: declared.map { DeclaredGPUs(count: $0) })
            FileHandleOutput.stdout(json ? ProbeReport.json(inventory) : ProbeReport.table(inventory))
            return 0
        case .status(let path):
            return await AgentChecks.status(path: path)
        case .stop(let path):
            return AgentChecks.stop(path: path)
        case .preflight(let path):
            return await AgentChecks.preflight(path: path)
        case .service(let action, let path, let dryRun):
            return AgentService.run(action, configPath: path, dryRun: dryRun)
        case .update(let options):
            return await AgentUpdate.command(options)
        case .start(let path):
            TrialGuard.check(log: log)
            #if DEBUG
            // A fault hook for the tests: a build that passes `version` but fails as the agent.
            if let build = ProcessInfo.processInfo.environment["CORRAL_TEST_FAIL_START_OF_BUILD"], build == Agent.build
            {
                FileHandleOutput.stderr("corral-agent: failing at start (CORRAL_TEST_FAIL_START_OF_BUILD)\n")
                return 1
            }
            #endif
            do {
                let configuration = try AgentConfiguration.load(
                    path: path,
                    environment: ProcessInfo.processInfo.environment
                )
                // SIGHUP: re-execute the binary now installed (an update); should that fail, go on as this one.
                while try await Agent(configuration: configuration, log: log).run() == .restart {
                    log.error("restart failed, running on as before: \(AgentRestart.reexec())")
                }
                return 0
            } catch {
                FileHandleOutput.stderr("corral-agent: \(error)\n")
                return 1
            }
        }
    }

    static func configure(_ options: ConfigureOptions) -> Int32 {
        var configuration = AgentConfiguration()
        if Files.exists(options.configPath),
            let existing = try? AgentConfiguration.load(path: options.configPath, environment: [:])
        {
            configuration = existing
        }
        // On a terminal, ask for what no flag gave (Enter keeps what the file has); flags alone never ask.
        let ask = Prompt.interactive
        if let value = options.endpoint {
            configuration.endpoint = value
        } else if ask {
            configuration.endpoint =
                Prompt.ask("controller endpoint (http://HOST:8700)", current: configuration.endpoint)
                ?? configuration.endpoint
        }
        do {
            // "-" and a file keep the token out of argv, where every user's ps would see it.
            if let secret = try Files.secretArgument(
                options.clusterToken,
                file: options.clusterTokenFile,
                flags: ("--cluster-token", "--cluster-token-file"),
                prompt: "cluster token: "
            ) {
                configuration.clusterToken = secret
            } else if ask {
                let current = configuration.clusterToken.isEmpty ? nil : configuration.clusterToken
                configuration.clusterToken =
                    try Prompt.askSecret("cluster join token (the controller's cluster.token)", current: current) ?? ""
            }
        } catch {
            FileHandleOutput.stderr("corral-agent: \(error)\n")
            return 1
        }
        if let value = options.nodeID {
            configuration.nodeID = value
        } else if ask {
            configuration.nodeID = Prompt.ask("node id", current: configuration.nodeID) ?? configuration.nodeID
        }
        if let value = options.declareGPUs { configuration.declaredGPUs = value }
        if let value = options.gpuName { configuration.declaredGPUName = value }
        if let value = options.stateDir { configuration.stateDir = value }
        if let value = options.caFile { configuration.caFile = value }
        if let value = options.clientCertificate { configuration.clientCertificate = value }
        if let value = options.clientKey { configuration.clientKey = value }
        if let value = options.cpus { configuration.cpus = value }
        if let value = options.memory { configuration.memory = value }
        for (key, value) in options.labels { configuration.labels[key] = value }
        if let value = options.cgroupParent { configuration.cgroupParent = value }
        if options.allowUncontained { configuration.allowUncontained = true }
        if let value = options.deviceDir { configuration.deviceDir = value }
        do {
            try configuration.validate()
            try Files.writeAtomically(options.configPath, configuration.render(), mode: 0o600)
        } catch {
            FileHandleOutput.stderr("corral-agent: \(error)\n")
            return 1
        }
        FileHandleOutput.stdout("wrote \(options.configPath)\nnext: corral-agent start\n")
        return 0
    }
}

extension AgentCommand {
    /// Whether the agent's configuration at `configPath` talks to its controller through libcurl (https, or a
    /// DNS name), or cannot be read (then `start` says why, and loading libcurl early costs nothing more).
    /// Plain http to an address or localhost needs no libcurl.
    public static func endpointNeedsLibcurl(configPath: String) -> Bool {
        guard
            let configuration = try? AgentConfiguration.load(
                path: configPath,
                environment: ProcessInfo.processInfo.environment
            )
        else { return true }
        return HTTPClient.usesLibcurl(baseURL: configuration.endpoint)
    }
}
