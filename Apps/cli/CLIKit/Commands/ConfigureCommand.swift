import ClusterWire
import CorralClient
import CorralSupport

/// `corral configure --endpoint URL (--token TOKEN | --token - | --token-file FILE) [--ca-file FILE]
/// [--no-verify]`: flags for scripts; on a terminal, a question for each value no flag gave (Enter keeps the
/// saved one). The endpoint and token are checked against the controller before anything is saved.
/// `--endpoint` and `--token` are the global options, so they come from the context.
struct ConfigureCommand: CorralCommand {
    var tokenFile: String?
    var caFile: String?
    var verify = true

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> ConfigureCommand {
        let usage = UsageError(
            "usage: corral configure --endpoint URL (--token TOKEN | --token - | --token-file FILE) [--ca-file FILE] [--no-verify]"
        )
        var command = ConfigureCommand()
        while let argument = try arguments.next() {
            switch argument {
            case .option("--no-verify"): command.verify = false
            // A flag without its value is refused with the usage, like any other mistake here.
            case .option("--token-file"):
                guard let file = try? arguments.value(for: "--token-file") else { throw usage }
                command.tokenFile = file
            case .option("--ca-file"):
                guard let file = try? arguments.value(for: "--ca-file") else { throw usage }
                command.caFile = file
            case .option, .positional: throw usage
            }
        }
        return command
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        var config = (try? CLIConfig.load(environment: [:], flags: GlobalOptions())) ?? CLIConfig()
        let ask = Terminal.interactive
        if let endpoint = context.globals.endpoint {
            config.endpoint = endpoint
        } else if ask {
            config.endpoint = Terminal.ask("controller endpoint (https://HOST:8700)", current: config.endpoint)
        }
        // --token - and --token-file keep the token out of argv, where every user's ps would see it.
        let given = context.globals.token
        if given != nil, tokenFile != nil { throw CLIError.usage("give --token or --token-file, not both") }
        do {
            if let secret = try Files.secretArgument(
                given,
                file: tokenFile,
                flags: ("--token", "--token-file"),
                prompt: "token: "
            ) {
                config.token = secret
            } else if ask {
                config.token = try Prompt.askSecret("token", current: config.token)
            }
        } catch {
            throw CLIError.failure(error.message)
        }
        if let caFile {
            config.caFile = caFile.isEmpty ? nil : caFile
        } else if ask, config.endpoint?.hasPrefix("https://") == true {
            let answer = Terminal.ask("CA file (Enter: the system's CAs; - for none)", current: config.caFile)
            config.caFile = answer == "-" ? nil : answer
        }
        guard let endpoint = config.endpoint, endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
            throw CLIError.usage("corral configure needs --endpoint http://HOST:PORT (or https://)")
        }
        guard let token = config.token, !token.isEmpty else {
            throw CLIError.usage("corral configure needs --token TOKEN (or --token - to read it from stdin)")
        }
        let identity = verify ? try await Self.check(endpoint: endpoint, token: token, caFile: config.caFile) : ""
        try Files.writeAtomically(CLIConfig.path, config.render(), mode: 0o600)
        FileHandleOutput.stdout("saved \(CLIConfig.path)\(identity)\nnext: corral submit -- echo hello\n")
        return 0
    }

    /// " (you are USER, ROLE)" when the controller takes the token; otherwise nothing may be saved.
    static func check(endpoint: String, token: String, caFile: String?) async throws(CLIError) -> String {
        let client = CorralClient(endpoint: endpoint, token: token, caFile: caFile, timeout: .seconds(10))
        do {
            let me = try await client.whoami()
            return " (you are \(me.user), \(me.role))"
        } catch {
            let what =
                error.kind == .unauthorized
                ? "the controller at \(endpoint) rejected the token (\(error.message))" : error.message
            throw CLIError.failure(
                "\(what)\nnothing saved: fix it, or pass --no-verify to save without checking",
                code: error.code ?? error.kind.rawValue
            )
        }
    }
}
