import ClusterCore
import ClusterWire
import CorralClient
import CorralSupport

/// Runs a parsed command and returns the exit code: 0 ok, 1 error, 2 usage.
public enum CLI {
    public static let version = "0.1.0"

    public static let usage = """
        corral: submit and watch jobs on a Corral GPU cluster

        usage: corral <command> [options]

        commands:
          configure   save the controller endpoint and your token (~/.corral/config.toml)
          submit      submit a job: corral submit [options] -- COMMAND [ARGS...]
          ls, ps      list jobs (active ones; --all for finished too)
          show        show one job: spec, attempts, events
          cancel      cancel jobs
          logs        a job's output: corral logs [-f] JOB (-f follows it to the end)
          explain     why a job waits: its reason and one line per node
          queues      the cluster's queues, their depth and GPU use
          nodes       list the cluster's nodes
          tokens      (admin) tokens create --user NAME [--admin] [--expires 30d] | list | revoke PREFIX
          whoami      who your token says you are
          drain       stop placing new work on a node (admin): corral drain NODE [--reason TEXT]
          resume      let a drained node take work again (admin)
          version     print the version

        global options: --json (machine-readable output), --endpoint URL, --token TOKEN
        environment: CORRAL_ENDPOINT, CORRAL_TOKEN, CORRAL_CA_FILE override the config file.
        exit codes: 0 ok, 1 error, 2 usage.

        example:
          corral submit --gpus 1 -- nvidia-smi
          corral ls
        """

    /// The whole program: parse, run, print errors as text or (with --json) as a JSON envelope on stderr.
    public static func main(_ arguments: [String], environment: [String: String]) async -> Int32 {
        var json = arguments.contains("--json")
        do {
            let (command, globals) = try CLICommand.parse(arguments)
            json = globals.json
            return try await run(command, globals: globals, environment: environment)
        } catch let error as CLIError {
            report(error, json: json)
            return error.exitCode
        } catch let error as CorralError {
            let cliError = CLIError.failure(advice(for: error), code: error.code ?? error.kind.rawValue)
            report(cliError, json: json)
            return 1
        } catch {
            report(CLIError.failure("\(error)"), json: json)
            return 1
        }
    }

    static func report(_ error: CLIError, json: Bool) {
        if json {
            FileHandleOutput.stderr(
                String(
                    decoding: WireJSON.encode(ErrorEnvelope(code: error.code, message: error.message)),
                    as: UTF8.self
                )
                    + "\n"
            )
        } else {
            FileHandleOutput.stderr("corral: \(error.message)\n")
        }
    }

    /// Every error says what to do next.
    static func advice(for error: CorralError) -> String {
        switch error.kind {
        case .unauthorized: "token rejected: run corral configure --token TOKEN (\(error.message))"
        case .unreachable: "\(error.message)\nis the controller running? check the endpoint with corral configure"
        default: error.message
        }
    }

    static func run(
        _ command: CLICommand,
        globals: GlobalOptions,
        environment: [String: String]
    ) async throws
        -> Int32
    {
        switch command {
        case .help(let topic):
            FileHandleOutput.stdout((topic == "submit" ? SubmitParser.usage : usage) + "\n")
            return 0
        case .version:
            FileHandleOutput.stdout("corral \(version)\n")
            return 0
        case .configure(let endpoint, let token, let caFile):
            return try configure(
                endpoint: endpoint,
                token: token,
                caFile: caFile,
                globals: globals,
                environment: environment
            )
        default:
            break
        }
        let client = try makeClient(globals: globals, environment: environment)
        switch command {
        case .submit(let request):
            let job = try await client.submit(request)
            FileHandleOutput.stdout(globals.json ? WireJSON.encodePretty(job) + "\n" : job.id + "\n")
        case .list(let all, let states, let user):
            let wanted = states.isEmpty && !all ? ["QUEUED", "ALLOCATED", "STARTING", "RUNNING"] : states
            let page = try await client.jobs(states: wanted, user: user, limit: 1000)
            if globals.json {
                FileHandleOutput.stdout(WireJSON.encodePretty(page.jobs) + "\n")
            } else if page.jobs.isEmpty && states.isEmpty && !all {
                FileHandleOutput.stdout("no active jobs (corral ls --all shows finished ones too)\n")
            } else {
                FileHandleOutput.stdout(Tables.jobs(page.jobs))
            }
        case .show(let id):
            let job = try await client.job(id)
            let events = try await client.events(job.id)
            FileHandleOutput.stdout(globals.json ? WireJSON.encodePretty(job) + "\n" : Tables.show(job, events.events))
        case .cancel(let ids):
            var failed = false
            var canceled: [JobView] = []
            for id in ids {
                do {
                    let job = try await client.cancel(id)
                    canceled.append(job)
                    if !globals.json { FileHandleOutput.stdout("canceled \(job.id)\n") }
                } catch {
                    failed = true
                    report(
                        CLIError.failure("\(id): \(advice(for: error))", code: error.code ?? "error"),
                        json: globals.json
                    )
                }
            }
            if globals.json { FileHandleOutput.stdout(WireJSON.encodePretty(canceled) + "\n") }
            return failed ? 1 : 0
        case .logs(let id, let follow):
            if follow {
                _ = try await client.followLogs(id) { bytes in FileHandleOutput.stdoutBytes(bytes) }
            } else {
                var offset = 0
                while true {
                    let chunk = try await client.logs(id, offset: offset)
                    FileHandleOutput.stdoutBytes(chunk.bytes)
                    offset += chunk.bytes.count
                    if chunk.bytes.isEmpty || offset >= chunk.size { break }
                }
            }
        case .explain(let id):
            let explanation = try await client.explain(id)
            FileHandleOutput.stdout(
                globals.json ? WireJSON.encodePretty(explanation) + "\n" : Tables.explain(explanation)
            )
        case .queues:
            let queues = try await client.queues()
            FileHandleOutput.stdout(
                globals.json ? WireJSON.encodePretty(queues.queues) + "\n" : Tables.queues(queues.queues)
            )
        case .tokensCreate(let user, let admin, let expiresIn):
            let created = try await client.createToken(user: user, role: admin ? "admin" : "user", expiresIn: expiresIn)
            FileHandleOutput.stdout(
                globals.json
                    ? WireJSON.encodePretty(created) + "\n"
                    : "\(created.token)\n(shown once: give it to \(created.user), who runs corral configure --token ...)\n"
            )
        case .tokensList:
            let tokens = try await client.tokens().tokens
            FileHandleOutput.stdout(globals.json ? WireJSON.encodePretty(tokens) + "\n" : Tables.tokens(tokens))
        case .tokensRevoke(let prefix):
            let token = try await client.revokeToken(prefix: prefix)
            FileHandleOutput.stdout(
                globals.json ? WireJSON.encodePretty(token) + "\n" : "revoked \(token.prefix) (\(token.user))\n"
            )
        case .whoami:
            let me = try await client.whoami()
            FileHandleOutput.stdout(
                globals.json
                    ? WireJSON.encodePretty(me) + "\n" : "\(me.user) (\(me.role)), token \(me.tokenPrefix)...\n"
            )
        case .nodesRevoke(let node):
            let view = try await client.revokeNode(node)
            FileHandleOutput.stdout(
                globals.json
                    ? WireJSON.encodePretty(view) + "\n"
                    : "revoked \(view.id): its agent is cut off; corral resume \(view.id) readmits it\n"
            )
        case .drain(let node, let reason):
            let view = try await client.drain(node, reason: reason)
            FileHandleOutput.stdout(
                globals.json
                    ? WireJSON.encodePretty(view) + "\n"
                    : "drained \(view.id): running jobs finish, no new ones start\n"
            )
        case .resume(let node):
            let view = try await client.resume(node)
            FileHandleOutput.stdout(globals.json ? WireJSON.encodePretty(view) + "\n" : "resumed \(view.id)\n")
        case .nodes:
            let nodes = try await client.nodes()
            FileHandleOutput.stdout(
                globals.json ? WireJSON.encodePretty(nodes.nodes) + "\n" : Tables.nodes(nodes.nodes)
            )
        default:
            break
        }
        return 0
    }

    static func makeClient(globals: GlobalOptions, environment: [String: String]) throws(CLIError) -> CorralClient {
        let config = try CLIConfig.load(environment: environment, flags: globals)
        guard let endpoint = config.endpoint, let token = config.token else {
            throw CLIError.failure(
                "not configured: run corral configure --endpoint URL --token TOKEN (or set CORRAL_ENDPOINT and CORRAL_TOKEN)",
                code: "not_configured"
            )
        }
        return CorralClient(endpoint: endpoint, token: token, caFile: config.caFile)
    }

    static func configure(
        endpoint: String?,
        token: String?,
        caFile: String?,
        globals: GlobalOptions,
        environment: [String: String]
    ) throws -> Int32 {
        var config = (try? CLIConfig.load(environment: [:], flags: GlobalOptions())) ?? CLIConfig()
        if let endpoint = endpoint ?? globals.endpoint { config.endpoint = endpoint }
        if let token = token ?? globals.token { config.token = token }
        if let caFile { config.caFile = caFile }
        guard let endpoint = config.endpoint, endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
            throw CLIError.usage("corral configure needs --endpoint http://HOST:PORT (or https://)")
        }
        guard config.token?.isEmpty == false else { throw CLIError.usage("corral configure needs --token TOKEN") }
        try Files.writeAtomically(CLIConfig.path, config.render(), mode: 0o600)
        FileHandleOutput.stdout("saved \(CLIConfig.path)\nnext: corral submit -- echo hello\n")
        return 0
    }
}
