import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import Glibc

/// `corral-controller agents publish FILE --version V [--arch A]` and `corral-controller agents list`, with
/// `--data-dir DIR`, `--config FILE` and `--database URL` as the controller takes them. They work on the data
/// directory, or on PostgreSQL on the database every controller serves from, running controller or not: it
/// serves a published build from its next request on.
enum AgentBuildCommand {
    static let usage = """
        usage: corral-controller agents publish FILE --version V [--arch x86_64|aarch64] [--signature FILE.sig]
                                                [--data-dir DIR] [--config FILE]
                                                [--database URL --database-password-file FILE]
               corral-controller agents list [--json] [--data-dir DIR] [--config FILE] [--database URL ...]
        publish stores an agent binary (with its SHA-256) for agents to update to: corral-agent update, or
        corral nodes update for a rolling update of every node
        """

    static func main(_ arguments: [String]) -> Int32 {
        var rest = arguments
        guard let action = rest.first, ["publish", "list"].contains(action) else {
            let asked = arguments.first.map { ["--help", "-h", "help"].contains($0) } ?? false
            (asked ? FileHandleOutput.stdout : FileHandleOutput.stderr)(usage + "\n")
            return asked ? 0 : 2
        }
        rest.removeFirst()
        var file: String?
        var version: String?
        var arch: String?
        var signaturePath: String?
        var json = false
        var passed: [String] = []
        var index = 0
        func value(_ flag: String) -> String? {
            index += 1
            return index < rest.count ? rest[index] : nil
        }
        while index < rest.count {
            let argument = rest[index]
            switch argument {
            case "--version", "--arch", "--signature":
                guard let given = value(argument) else { return refuse("\(argument) needs a value") }
                switch argument {
                case "--version": version = given
                case "--arch": arch = given
                default: signaturePath = given
                }
            case "--json": json = true
            case "--data-dir", "--config", "--database", "--database-password-file":
                guard let given = value(argument) else { return refuse("\(argument) needs a value") }
                passed += [argument, given]
            case "--help", "-h":
                FileHandleOutput.stdout(usage + "\n")
                return 0
            default:
                guard action == "publish", file == nil, !argument.hasPrefix("-") else {
                    return refuse("unexpected argument '\(argument.prefix(80))'")
                }
                file = argument
            }
            index += 1
        }
        let configuration: ControllerConfiguration
        do {
            configuration = try ControllerConfiguration.parse(passed)
        } catch {
            return refuse(error.message)
        }
        let store: AgentBuildStore
        do {
            store = try Self.store(configuration)
        } catch {
            return fail("\(error)")
        }
        if action == "list" { return list(store, json: json) }
        guard let file else { return refuse("name the agent binary to publish") }
        guard let version else { return refuse("--version V is required: the version agents will report") }
        if let arch, !AgentBuild.architectures.contains(arch) {
            return refuse("--arch must be one of \(AgentBuild.architectures.joined(separator: ", "))")
        }
        guard store.catalog != nil || Files.exists(configuration.databasePath) else {
            return fail("no controller data in \(configuration.dataDir) (give --data-dir DIR)")
        }
        do {
            let bytes = try Files.readBytes(file, limit: AgentBuildStore.maximumSize)
            let signature = try signaturePath.map { path throws(Files.Failure) in try Files.readBytes(path, limit: 4096)
            }
            let clock = SystemClock()
            let (build, new) = try store.publish(
                bytes,
                version: version,
                arch: arch,
                signature: signature,
                now: clock.now()
            )
            // Run as root for a controller that runs as its own account: the builds stay readable to it.
            var info = stat()
            if stat(configuration.dataDir, &info) == 0 {
                for path in [store.directory, "\(store.directory)/\(build.sha256)"] {
                    _ = chown(path, info.st_uid, info.st_gid)
                }
            }
            FileHandleOutput.stdout(
                (new ? "published" : "already published") + " corral-agent \(build.version) for \(build.arch) "
                    + "(\(ByteSize.format(build.size)), SHA-256 \(build.sha256)\(build.signature == nil ? "" : ", signed"))\n"
                    + "next: corral nodes update (every node, one at a time), or corral-agent update --restart on a node\n"
            )
            return 0
        } catch {
            return fail("\(error)")
        }
    }

    /// The data directory's builds, or on PostgreSQL the database's (the command writes nothing there but builds,
    /// so its connection is not fenced by the leader's epoch).
    static func store(_ configuration: ControllerConfiguration) throws -> AgentBuildStore {
        guard let settings = try configuration.postgresSettings() else {
            return AgentBuildStore(dataDir: configuration.dataDir)
        }
        var named = settings
        named.applicationName += "-agents"
        let catalog = AgentBuildCatalog(
            database: try ClusterDatabase(postgres: named),
            log: StderrLog(component: "agents")
        )
        return AgentBuildStore(dataDir: configuration.dataDir, catalog: catalog)
    }

    static func list(_ store: AgentBuildStore, json: Bool) -> Int32 {
        let builds = store.list()
        if json {
            FileHandleOutput.stdout(WireJSON.encodePretty(AgentBuildList(builds: builds)) + "\n")
            return 0
        }
        guard !builds.isEmpty else {
            FileHandleOutput.stdout("no agent builds published (corral-controller agents publish FILE --version V)\n")
            return 0
        }
        let rows =
            [["VERSION", "ARCH", "SIZE", "SHA256", "PUBLISHED"]]
            + builds.map { [$0.version, $0.arch, ByteSize.format($0.size), $0.sha256, $0.publishedAt] }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map {
                $0.element + String(repeating: " ", count: widths[$0.offset] - $0.element.count)
            }
            FileHandleOutput.stdout(cells.joined(separator: "  ").trimmingWhitespace() + "\n")
        }
        return 0
    }

    private static func refuse(_ message: String) -> Int32 {
        FileHandleOutput.stderr("corral-controller agents: \(message)\n\(usage)\n")
        return 2
    }

    private static func fail(_ message: String) -> Int32 {
        FileHandleOutput.stderr("corral-controller agents: \(message)\n")
        return 1
    }
}
