import CorralSupport

/// `corral config show | config set KEY VALUE` (endpoint, token, ca_file or notify).
struct ConfigCommand: CorralCommand {
    enum Action: Sendable, Equatable {
        /// The settings in effect (file, environment and flags), the token shortened.
        case show
        case set(key: String, value: String)
    }

    var action: Action

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> ConfigCommand {
        let words = arguments.rest()
        if words == ["show"] { return ConfigCommand(action: .show) }
        if words.count == 3 && words[0] == "set" {
            guard CLIConfig.keys.contains(words[1]) else {
                throw UsageError("corral config set takes endpoint, token, ca_file or notify")
            }
            return ConfigCommand(action: .set(key: words[1], value: words[2]))
        }
        throw UsageError("usage: corral config show | corral config set KEY VALUE")
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        switch action {
        case .show:
            let config = try CLIConfig.load(environment: context.environment, flags: context.globals)
            let token = config.token.map { String($0.prefix(12)) + "... (hidden)" } ?? "(not set)"
            FileHandleOutput.stdout(
                "file:     \(CLIConfig.path)\nendpoint: \(config.endpoint ?? "(not set)")\ntoken:    \(token)\n"
                    + "ca_file:  \(config.caFile ?? "(not set)")\nnotify:   \(config.notify ?? "(not set)")\n"
            )
        case .set(let key, let value):
            // Only the file: the environment and flags must not be written into it.
            var config = (try? CLIConfig.load(environment: [:], flags: GlobalOptions())) ?? CLIConfig()
            switch key {
            case "endpoint":
                guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
                    throw CLIError.usage("endpoint must start with http:// or https://")
                }
                config.endpoint = value
            case "token": config.token = value
            case "notify":
                guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
                    throw CLIError.usage("notify must start with http:// or https://")
                }
                config.notify = value
            default: config.caFile = value
            }
            try Files.writeAtomically(CLIConfig.path, config.render(), mode: 0o600)
            FileHandleOutput.stdout("saved \(key) in \(CLIConfig.path)\n")
        }
        return 0
    }
}
