import CorralSupport

/// Where the CLI talks to, and as whom: ~/.corral/config.toml, then CORRAL_ENDPOINT / CORRAL_TOKEN /
/// CORRAL_CA_FILE, then --endpoint / --token flags. `notify` (CORRAL_NOTIFY): the URL `submit` and `run` give
/// as `--notify` when no other is given.
struct CLIConfig: Sendable, Equatable {
    var endpoint: String?
    var token: String?
    var caFile: String?
    var notify: String?

    static let keys = ["endpoint", "token", "ca_file", "notify"]

    static var path: String {
        Files.environment("CORRAL_CONFIG") ?? Files.home() + "/.corral/config.toml"
    }

    static func load(environment: [String: String], flags: GlobalOptions) throws(CLIError) -> CLIConfig {
        var config = CLIConfig()
        let path = Self.path
        if Files.exists(path) {
            let table: TOMLTable
            do {
                table = try TOML.parse(try Files.readSecret(path))
            } catch let error as TOMLError {
                throw CLIError.failure("\(path): \(error)")
            } catch {
                throw CLIError.failure("\(error)")
            }
            for key in table.keys where !Self.keys.contains(key) {
                throw CLIError.failure("\(path): unknown setting '\(key)'")
            }
            config.endpoint = table["endpoint"]?.stringValue
            config.token = table["token"]?.stringValue
            config.caFile = table["ca_file"]?.stringValue
            config.notify = table["notify"]?.stringValue
        }
        if let value = environment["CORRAL_ENDPOINT"], !value.isEmpty { config.endpoint = value }
        if let value = environment["CORRAL_TOKEN"], !value.isEmpty { config.token = value }
        if let value = environment["CORRAL_CA_FILE"], !value.isEmpty { config.caFile = value }
        if let value = environment["CORRAL_NOTIFY"], !value.isEmpty { config.notify = value }
        if let value = flags.endpoint { config.endpoint = value }
        if let value = flags.token { config.token = value }
        return config
    }

    func render() -> String {
        var table = TOMLTable()
        if let endpoint { table.set("endpoint", .string(endpoint)) }
        if let token { table.set("token", .string(token)) }
        if let caFile { table.set("ca_file", .string(caFile)) }
        if let notify { table.set("notify", .string(notify)) }
        return "# corral CLI configuration (written by corral configure)\n" + TOML.render(table)
    }
}
