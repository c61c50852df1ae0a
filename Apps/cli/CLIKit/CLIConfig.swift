import CorralSupport

/// Where the CLI talks to, and as whom: ~/.corral/config.toml, then CORRAL_ENDPOINT / CORRAL_TOKEN /
/// CORRAL_CA_FILE, then --endpoint / --token flags.
struct CLIConfig: Sendable, Equatable {
    var endpoint: String?
    var token: String?
    var caFile: String?

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
            for key in table.keys where !["endpoint", "token", "ca_file"].contains(key) {
                throw CLIError.failure("\(path): unknown setting '\(key)'")
            }
            config.endpoint = table["endpoint"]?.stringValue
            config.token = table["token"]?.stringValue
            config.caFile = table["ca_file"]?.stringValue
        }
        if let value = environment["CORRAL_ENDPOINT"], !value.isEmpty { config.endpoint = value }
        if let value = environment["CORRAL_TOKEN"], !value.isEmpty { config.token = value }
        if let value = environment["CORRAL_CA_FILE"], !value.isEmpty { config.caFile = value }
        if let value = flags.endpoint { config.endpoint = value }
        if let value = flags.token { config.token = value }
        return config
    }

    func render() -> String {
        var table = TOMLTable()
        if let endpoint { table.set("endpoint", .string(endpoint)) }
        if let token { table.set("token", .string(token)) }
        if let caFile { table.set("ca_file", .string(caFile)) }
        return "# corral CLI configuration (written by corral configure)\n" + TOML.render(table)
    }
}
