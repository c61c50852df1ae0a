import ClusterCore
import CorralSupport
import NodeProbe

/// The agent's settings, from ~/.corral/agent.toml (or --config), then the environment
/// (CORRAL_ENDPOINT, CORRAL_CLUSTER_TOKEN, CORRAL_NODE_ID, CORRAL_CA_FILE, CORRAL_REGISTRY_*).
public struct AgentConfiguration: Sendable, Hashable {
    public var endpoint: String = "http://127.0.0.1:8700"
    public var clusterToken: String = ""
    public var nodeID: String = NodeProber.hostname()
    public var stateDir: String = Files.home() + "/.corral/agent"
    public var caFile: String?
    /// This node's client certificate and key, for controllers that require them (mTLS).
    public var clientCertificate: String?
    public var clientKey: String?
    /// GPUs declared by the operator instead of detected (as Slurm's gres.conf does).
    public var declaredGPUs: Int?
    public var declaredGPUName: String?
    public var declaredGPUMemoryMiB: Int?
    public var cpus: Int?
    public var memory: Int64?
    public var labels: [String: String] = [:]
    /// SIGTERM, then this long, then SIGKILL.
    public var killGrace: Duration = .seconds(10)
    public var nvidiaSMI: String = "nvidia-smi"
    /// NVIDIA's management library, asked before nvidia-smi; "off" to use nvidia-smi only.
    public var nvml: String = "libnvidia-ml.so.1"
    /// Container jobs (`image` set) run through this docker CLI; nil: this node takes no container jobs.
    public var docker: String?
    /// A private registry to log in to before container jobs run (`[containers]` registry, username,
    /// password_file; or CORRAL_REGISTRY_SERVER, CORRAL_REGISTRY_USERNAME, CORRAL_REGISTRY_PASSWORD).
    public var registry: String?
    public var registryUsername: String?
    public var registryPasswordFile: String?
    /// From CORRAL_REGISTRY_PASSWORD only: never written to the file.
    public var registryPassword: String?
    /// `[isolation]`: the agent's cgroup for jobs, below its own cgroup in each hierarchy.
    public var cgroupParent: String = "corral"
    /// Run jobs without cgroups where they cannot be used (an admin's explicit choice; off by default).
    public var allowUncontained = false
    /// Where the GPUs' device nodes are (`nvidia0`...); only tests point it elsewhere, at stand-ins.
    public var deviceDir: String = "/dev"
    /// The address other nodes reach this one at (gang jobs' MASTER_ADDR and node list); nil: the address
    /// the controller sees the agent's registration come from.
    public var address: String?
    /// An Ed25519 public key (PEM file): when set, `corral-agent update` installs only builds whose signature
    /// it verifies (`corral-controller agents publish --signature`).
    public var updatePublicKey: String?
    /// Where job records live (`RecordsDirectory`): a tmpfs such as /run/corral-agent spares the disk the
    /// files each job makes and deletes; nil: in the state directory.
    public var recordsDir: String?
    /// `[stage]`: the stage cache (`AgentConfiguration+Stage.swift`); no directory: the node stages nothing.
    public var stageCacheDir: String?
    public var stageCacheSize: Int64 = 0
    public var stageRoots: [String] = []

    public init() {}

    /// NVML as configured: nil when off or not installed.
    func loadNVML() -> NVML? { nvml == "off" ? nil : NVML(path: nvml) }

    public var logDir: String { stateDir + "/logs" }
    public var jobsDir: String { stateDir + "/jobs" }
    /// When the agent last renewed its allocations' lease; every job's supervisor reads it (see Supervisor).
    public var leasePath: String { stateDir + "/lease" }
    /// The node's own token (0600): the agent registers again with it, never with the join token alone.
    public var nodeTokenPath: String { stateDir + "/node.token" }
    /// The running agent's pid, for `corral-agent status` and `stop`.
    public var pidPath: String { stateDir + "/agent.pid" }
    /// An empty file of mode 0000, mounted over the GPU device nodes a job was not given.
    public var deviceMaskPath: String { stateDir + "/device-mask" }

    public static var defaultPath: String { Files.home() + "/.corral/agent.toml" }

    /// Reads the file (it holds the join token, so it must not be readable by others), then the environment.
    public static func load(
        path: String,
        environment: [String: String]
    ) throws(ConfigurationFailure)
        -> AgentConfiguration
    {
        var configuration = AgentConfiguration()
        guard Files.exists(path) else {
            throw ConfigurationFailure(
                "no agent configuration at \(path): run corral-agent configure --endpoint URL --cluster-token TOKEN"
            )
        }
        let table: TOMLTable
        do {
            table = try TOML.parse(try Files.readSecret(path))
        } catch let error as TOMLError {
            throw ConfigurationFailure("\(path): \(error)")
        } catch {
            throw ConfigurationFailure("\(error)")
        }
        try configuration.apply(table, path: path)
        if let value = environment["CORRAL_ENDPOINT"] { configuration.endpoint = value }
        if let value = environment["CORRAL_CLUSTER_TOKEN"] { configuration.clusterToken = value }
        if let value = environment["CORRAL_NODE_ID"] { configuration.nodeID = value }
        if let value = environment["CORRAL_CA_FILE"] { configuration.caFile = value }
        if let value = environment["CORRAL_REGISTRY_SERVER"] { configuration.registry = value }
        if let value = environment["CORRAL_REGISTRY_USERNAME"] { configuration.registryUsername = value }
        if let value = environment["CORRAL_REGISTRY_PASSWORD"] { configuration.registryPassword = value }
        try configuration.validate()
        return configuration
    }

    mutating func apply(_ table: TOMLTable, path: String) throws(ConfigurationFailure) {
        func string(_ key: String) throws(ConfigurationFailure) -> String? {
            guard let value = table[key] else { return nil }
            guard case .string(let text) = value else { throw ConfigurationFailure("\(path): \(key) must be a string") }
            return text
        }
        func integer(_ key: String, in source: TOMLTable? = nil) throws(ConfigurationFailure) -> Int64? {
            guard let value = (source ?? table)[key] else { return nil }
            guard case .integer(let number) = value, number >= 0 else {
                throw ConfigurationFailure("\(path): \(key) must be a non-negative integer")
            }
            return number
        }
        let known: Set<String> = [
            "endpoint", "cluster_token", "node_id", "state_dir", "ca_file", "client_cert", "client_key", "gpus", "cpus",
            "memory", "labels",
            "kill_grace_seconds", "nvidia_smi", "nvml", "containers", "isolation", "address", "update_public_key",
            "records_dir",
            "stage",
        ]
        for key in table.keys where !known.contains(key) {
            throw ConfigurationFailure("\(path): unknown setting '\(key)'")
        }
        if let value = try string("endpoint") { endpoint = value }
        if let value = try string("cluster_token") { clusterToken = value }
        if let value = try string("node_id") { nodeID = value }
        if let value = try string("state_dir") { stateDir = value }
        if let value = try string("ca_file") { caFile = value }
        if let value = try string("client_cert") { clientCertificate = value }
        if let value = try string("client_key") { clientKey = value }
        if let value = try string("nvidia_smi") { nvidiaSMI = value }
        if let value = try string("nvml") { nvml = value }
        if let value = try string("address") {
            guard NodeAddress.isValid(value) else {
                throw ConfigurationFailure("\(path): address must be a host name or an IP address")
            }
            address = value
        }
        if let value = try string("records_dir") {
            guard value.hasPrefix("/"), value.count > 1, !value.split(separator: "/").contains("..") else {
                throw ConfigurationFailure("\(path): records_dir must be an absolute path such as /run/corral-agent")
            }
            recordsDir = value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        if let value = try string("update_public_key") {
            guard value.hasPrefix("/") else {
                throw ConfigurationFailure("\(path): update_public_key must be the absolute path of a PEM public key")
            }
            updatePublicKey = value
        }
        if let value = try integer("cpus") { cpus = Int(value) }
        if let value = table["memory"] {
            switch value {
            case .integer(let bytes) where bytes >= 0: memory = bytes
            case .string(let text) where ByteSize.parse(text) != nil: memory = ByteSize.parse(text)
            default: throw ConfigurationFailure("\(path): memory must be bytes or a size such as \"64G\"")
            }
        }
        if let value = try integer("kill_grace_seconds") {
            guard value <= Int64(SpecLimits.maxKillGrace) else {
                throw ConfigurationFailure("\(path): kill_grace_seconds must be at most \(SpecLimits.maxKillGrace)")
            }
            killGrace = .seconds(value)
        }
        if let value = table["gpus"] {
            guard case .table(let gpus) = value else {
                throw ConfigurationFailure("\(path): [gpus] must be a table with count, name, memory_mib")
            }
            declaredGPUs = try integer("count", in: gpus).map(Int.init)
            if case .string(let name) = gpus["name"] { declaredGPUName = name }
            declaredGPUMemoryMiB = try integer("memory_mib", in: gpus).map(Int.init)
        }
        if let value = table["containers"] {
            guard case .table(let containers) = value else {
                throw ConfigurationFailure(
                    "\(path): [containers] must be a table with docker, registry, username, password_file"
                )
            }
            for key in containers.keys {
                guard ["docker", "registry", "username", "password_file"].contains(key) else {
                    throw ConfigurationFailure("\(path): unknown setting '\(key)' in [containers]")
                }
                guard case .string(let text) = containers[key], !text.isEmpty else {
                    throw ConfigurationFailure("\(path): [containers] \(key) must be a non-empty string")
                }
                switch key {
                case "docker": docker = text
                case "registry": registry = text
                case "username": registryUsername = text
                default: registryPasswordFile = text
                }
            }
        }
        if let value = table["isolation"] { try applyIsolation(value, path: path) }
        if let value = table["stage"] { try applyStage(value, path: path) }
        if let value = table["labels"] {
            guard case .table(let labels) = value else {
                throw ConfigurationFailure("\(path): [labels] must be a table")
            }
            for key in labels.keys {
                guard case .string(let text) = labels[key] else {
                    throw ConfigurationFailure("\(path): label \(key) must be a string")
                }
                self.labels[key] = text
            }
        }
    }

    /// `http://HOST[:PORT]` or `https://...`, with a host, a port (when given) of 1-65535, nothing after a path.
    static func isEndpoint(_ text: String) -> Bool {
        let rest: Substring
        if text.hasPrefix("http://") {
            rest = text.dropFirst(7)
        } else if text.hasPrefix("https://") {
            rest = text.dropFirst(8)
        } else {
            return false
        }
        let authority = rest.prefix { $0 != "/" }
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains(where: \.isWhitespace) else {
            return false
        }
        var host = authority
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return false }
            if after.hasPrefix(":") {
                guard let port = Int(after.dropFirst()), (1...65535).contains(port) else { return false }
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                return false
            }
        }
        return !host.isEmpty
    }

    /// The controllers to try, in order: `endpoint` may list several, comma-separated (controllers sharing one
    /// PostgreSQL database, one of which leads: issue 19).
    public var endpoints: [String] {
        endpoint.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    func validate() throws(ConfigurationFailure) {
        guard !endpoints.isEmpty, endpoints.count <= 16, endpoints.allSatisfy(Self.isEndpoint) else {
            throw ConfigurationFailure(
                "endpoint must be http(s)://HOST[:PORT] (port 1-65535), or up to 16 of them separated by commas, "
                    + "got '\(endpoint)'"
            )
        }
        guard nvml == "off" || nvml.hasPrefix("/") || (nvml.hasPrefix("lib") && nvml.contains(".so")) else {
            throw ConfigurationFailure(
                "nvml must be \"off\", an absolute path or a library name such as libnvidia-ml.so.1, got '\(nvml)'"
            )
        }
        guard !clusterToken.isEmpty else {
            throw ConfigurationFailure("no cluster token: set cluster_token (from the controller's cluster.token)")
        }
        guard NodeID.isValid(nodeID) else {
            throw ConfigurationFailure("node id '\(nodeID)' must be 1-63 letters, digits, '-', '_' or '.'")
        }
        guard stateDir.hasPrefix("/") else { throw ConfigurationFailure("state_dir must be an absolute path") }
        if let declaredGPUs, declaredGPUs > 1024 { throw ConfigurationFailure("[gpus] count must be at most 1024") }
        if registry != nil {
            guard docker != nil else {
                throw ConfigurationFailure("a registry is set but [containers] docker is not: container jobs are off")
            }
            guard registryUsername != nil, registryPassword != nil || registryPasswordFile != nil else {
                throw ConfigurationFailure(
                    "registry \(registry!) needs a username and a password (password_file or CORRAL_REGISTRY_PASSWORD)"
                )
            }
        }
    }

    /// The file `corral-agent configure` writes.
    func render() -> String {
        var table = TOMLTable()
        table.set("endpoint", .string(endpoint))
        table.set("cluster_token", .string(clusterToken))
        table.set("node_id", .string(nodeID))
        table.set("state_dir", .string(stateDir))
        if let caFile { table.set("ca_file", .string(caFile)) }
        if let clientCertificate { table.set("client_cert", .string(clientCertificate)) }
        if let clientKey { table.set("client_key", .string(clientKey)) }
        if killGrace != .seconds(10) { table.set("kill_grace_seconds", .integer(killGrace.components.seconds)) }
        if nvidiaSMI != "nvidia-smi" { table.set("nvidia_smi", .string(nvidiaSMI)) }
        if nvml != "libnvidia-ml.so.1" { table.set("nvml", .string(nvml)) }
        if let address { table.set("address", .string(address)) }
        if let updatePublicKey { table.set("update_public_key", .string(updatePublicKey)) }
        if let recordsDir { table.set("records_dir", .string(recordsDir)) }
        if let cpus { table.set("cpus", .integer(Int64(cpus))) }
        if let memory { table.set("memory", .integer(memory)) }
        if let declaredGPUs {
            var gpus = TOMLTable()
            gpus.set("count", .integer(Int64(declaredGPUs)))
            if let declaredGPUName { gpus.set("name", .string(declaredGPUName)) }
            if let declaredGPUMemoryMiB { gpus.set("memory_mib", .integer(Int64(declaredGPUMemoryMiB))) }
            table.set("gpus", .table(gpus))
        }
        if let docker {
            var containers = TOMLTable()
            containers.set("docker", .string(docker))
            if let registry { containers.set("registry", .string(registry)) }
            if let registryUsername { containers.set("username", .string(registryUsername)) }
            if let registryPasswordFile { containers.set("password_file", .string(registryPasswordFile)) }
            table.set("containers", .table(containers))
        }
        if let isolation = renderIsolation() { table.set("isolation", .table(isolation)) }
        if let stage = renderStage() { table.set("stage", .table(stage)) }
        if !labels.isEmpty {
            var labelTable = TOMLTable()
            for (key, value) in labels.sorted(by: { $0.key < $1.key }) { labelTable.set(key, .string(value)) }
            table.set("labels", .table(labelTable))
        }
        return "# corral-agent configuration (written by corral-agent configure)\n" + TOML.render(table)
    }
}

public struct ConfigurationFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
