import ClusterWire
import CorralClient
import CorralSupport

/// What a command runs with: the global options and the environment they are read with.
struct CommandContext: Sendable {
    var globals: GlobalOptions
    var environment: [String: String]

    /// `--json`: machine-readable output.
    var json: Bool { globals.json }

    /// A client for the configured controller, or the error that says how to configure one.
    func client() throws(CLIError) -> CorralClient {
        let config = try CLIConfig.load(environment: environment, flags: globals)
        guard let endpoint = config.endpoint, let token = config.token else {
            throw CLIError.failure(
                "not configured: run corral configure --endpoint URL --token TOKEN (or set CORRAL_ENDPOINT and CORRAL_TOKEN)",
                code: "not_configured"
            )
        }
        return CorralClient(endpoint: endpoint, token: token, caFile: config.caFile)
    }

    /// The request with the user's default `--notify` URL (config `notify`, CORRAL_NOTIFY) when it has none.
    func withDefaultNotify(_ request: SubmitJobRequest) -> SubmitJobRequest {
        guard request.notify == nil,
            let url = try? CLIConfig.load(environment: environment, flags: globals).notify
        else { return request }
        var request = request
        request.notify = url
        return request
    }

    /// `value` as pretty JSON with `--json`, else `text` (computed only then).
    func print(_ value: some Encodable, text: @autoclosure () -> String) {
        FileHandleOutput.stdout(json ? WireJSON.encodePretty(value) + "\n" : text())
    }
}
