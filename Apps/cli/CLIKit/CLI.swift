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
          configure   save the controller endpoint and your token (~/.corral/config.toml), checked first;
                      (asks on a terminal; --token - reads stdin, --token-file FILE a file; --no-verify)
          submit      submit a job: corral submit [options] -- COMMAND [ARGS...] (-f job.toml, --wait);
                      (with no command on a terminal, it asks for the job)
          run         submit, stream its output, exit with its exit code
          ls, ps      list jobs (active ones; --all, --state, --user, --queue, --watch)
          show        show one job: spec, attempts, events
          wait        wait for jobs to end; exits with the job's exit code
          cancel      cancel jobs
          logs        a job's output: corral logs [-f] [--tail N] JOB (-f follows it to the end)
          explain     why a job waits: its reason and one line per node
          queues      the cluster's queues, their depth and GPU use
          nodes       list the cluster's nodes; nodes show NODE
          tokens      (admin) tokens create --user NAME [--admin] [--expires 30d] | list | revoke PREFIX
          whoami      who your token says you are
          drain       stop placing new work on a node (admin): corral drain NODE [--reason TEXT]
          resume      let a drained node take work again (admin)
          config      config show | config set KEY VALUE (endpoint, token, ca_file)
          completion  completion bash|zsh|fish: a completion script
          version     print the version

        targets: an id or unique prefix, a name, a row of the last corral ls (3), a list (1,3,5), a range (2-4), or all

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
        case .configure(let endpoint, let token, let tokenFile, let caFile, let verify):
            return try await configure(
                endpoint: endpoint,
                token: token,
                tokenFile: tokenFile,
                caFile: caFile,
                verify: verify,
                globals: globals,
                environment: environment
            )
        case .completion(let shell):
            FileHandleOutput.stdout(Completion.script(for: shell))
            return 0
        case .configShow:
            let config = try CLIConfig.load(environment: environment, flags: globals)
            let token = config.token.map { String($0.prefix(12)) + "... (hidden)" } ?? "(not set)"
            FileHandleOutput.stdout(
                "file:     \(CLIConfig.path)\nendpoint: \(config.endpoint ?? "(not set)")\ntoken:    \(token)\n"
                    + "ca_file:  \(config.caFile ?? "(not set)")\n"
            )
            return 0
        case .configSet(let key, let value):
            var config = (try? CLIConfig.load(environment: [:], flags: GlobalOptions())) ?? CLIConfig()
            switch key {
            case "endpoint":
                guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
                    throw CLIError.usage("endpoint must start with http:// or https://")
                }
                config.endpoint = value
            case "token": config.token = value
            default: config.caFile = value
            }
            try Files.writeAtomically(CLIConfig.path, config.render(), mode: 0o600)
            FileHandleOutput.stdout("saved \(key) in \(CLIConfig.path)\n")
            return 0
        default:
            break
        }
        let client = try makeClient(globals: globals, environment: environment)
        switch command {
        case .submit(var flags, let options):
            if options.ask { flags = try SubmitPrompts.ask(flags) }
            let request =
                try options.file.map { file throws(CLIError) in
                    SpecFile.merge(file: try SpecFile.load(file), flags: flags)
                } ?? flags
            let job = try await client.submit(request)
            FileHandleOutput.stdout(globals.json ? WireJSON.encodePretty(job) + "\n" : job.id + "\n")
            if options.wait { return try await waitFor([job], client: client, json: globals.json) }
        case .run(let flags, let options):
            let request =
                try options.file.map { file throws(CLIError) in
                    SpecFile.merge(file: try SpecFile.load(file), flags: flags)
                } ?? flags
            return try await Runner.run(request, client: client)
        case .wait(let words):
            let jobs = try await Targets.resolve(words, client: client)
            return try await waitFor(jobs, client: client, json: globals.json)
        case .list(let options):
            return try await list(options, client: client, json: globals.json)
        case .show(let word):
            let job = try await Targets.one(word, client: client)
            let events = try await client.events(job.id)
            FileHandleOutput.stdout(globals.json ? WireJSON.encodePretty(job) + "\n" : Tables.show(job, events.events))
        case .cancel(let words, let yes):
            let jobs = try await Targets.resolve(words, client: client)
            guard !jobs.isEmpty else {
                FileHandleOutput.stderr("corral: nothing to cancel\n")
                return 0
            }
            if jobs.count > 1 || words == ["all"] {
                if !yes {
                    guard Terminal.interactive else {
                        throw CLIError.usage("cancel \(jobs.count) jobs? add --yes to confirm when not on a terminal")
                    }
                    guard
                        Terminal.confirm(
                            "Cancel \(jobs.count) jobs (\(jobs.prefix(5).map(\.id).joined(separator: ", "))\(jobs.count > 5 ? ", ..." : ""))?"
                        )
                    else { return 1 }
                }
            }
            var failed = false
            var canceled: [JobView] = []
            for job in jobs {
                do {
                    let done = try await client.cancel(job.id)
                    canceled.append(done)
                    if !globals.json { FileHandleOutput.stdout("canceled \(done.id)\n") }
                } catch {
                    failed = true
                    report(
                        CLIError.failure("\(job.id): \(advice(for: error))", code: error.code ?? "error"),
                        json: globals.json
                    )
                }
            }
            if globals.json { FileHandleOutput.stdout(WireJSON.encodePretty(canceled) + "\n") }
            return failed ? 1 : 0
        case .nodeShow(let node):
            let view = try await client.node(node)
            FileHandleOutput.stdout(globals.json ? WireJSON.encodePretty(view) + "\n" : Tables.node(view))
        case .logs(let word, let follow, let tail):
            let id = try await Targets.one(word, client: client).id
            if let tail {
                let last = try await client.tailLogs(id, lines: tail)
                FileHandleOutput.stdoutBytes(last.bytes)
                if follow {
                    _ = try await client.followLogs(id, from: last.size, attempt: last.attempt > 0 ? last.attempt : nil)
                    {
                        bytes in FileHandleOutput.stdoutBytes(bytes)
                    }
                }
            } else if follow {
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
        case .explain(let word):
            let explanation = try await client.explain(try await Targets.one(word, client: client).id)
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

    /// `corral ls`: a table (saved as the listing that indexes refer to), JSON, or a refreshing view.
    static func list(_ options: ListOptions, client: CorralClient, json: Bool) async throws -> Int32 {
        let wanted =
            options.states.isEmpty && !options.all ? ["QUEUED", "ALLOCATED", "STARTING", "RUNNING"] : options.states
        repeat {
            let jobs = try await client.jobs(states: wanted, user: options.user, queue: options.queue, limit: 1000).jobs
            if json {
                FileHandleOutput.stdout(WireJSON.encodePretty(jobs) + "\n")
                return 0
            }
            Targets.saveListing(jobs)
            var text =
                jobs.isEmpty && options.states.isEmpty && !options.all
                ? "no active jobs (corral ls --all shows finished ones too)\n"
                : Tables.jobs(jobs, now: SystemClock().now())
            if options.watch {
                text = "\u{1B}[H\u{1B}[2J" + text + "\n(refreshing every 2 s; Ctrl-C to stop)\n"
            }
            FileHandleOutput.stdout(text)
            if options.watch { try await Task.sleep(for: .seconds(2)) }
        } while options.watch
        return 0
    }

    /// Waits for every job to end. One job: its exit code (0 when it succeeded, 1 when it failed without one).
    /// Several: 0 when all succeeded, else 1.
    static func waitFor(_ jobs: [JobView], client: CorralClient, json: Bool) async throws -> Int32 {
        var finished: [JobView] = []
        for job in jobs { finished.append(try await client.wait(for: job.id)) }
        if json {
            FileHandleOutput.stdout(WireJSON.encodePretty(finished) + "\n")
        } else {
            for job in finished {
                FileHandleOutput.stderr("\(job.id): \(job.state)\(job.message.map { " (\($0))" } ?? "")\n")
            }
        }
        if finished.count == 1 { return exitCode(of: finished[0]) }
        return finished.allSatisfy { $0.state == "SUCCEEDED" } ? 0 : 1
    }

    static func exitCode(of job: JobView) -> Int32 {
        if job.state == "SUCCEEDED" { return 0 }
        if let code = job.exitCode, code != 0 { return code }
        if job.state == "CANCELED" { return 130 }
        return 1
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

    /// Flags for scripts; on a terminal, a question for each value no flag gave (Enter keeps the saved one).
    /// The endpoint and token are checked against the controller before anything is saved.
    static func configure(
        endpoint: String?,
        token: String?,
        tokenFile: String?,
        caFile: String?,
        verify: Bool,
        globals: GlobalOptions,
        environment: [String: String]
    ) async throws -> Int32 {
        var config = (try? CLIConfig.load(environment: [:], flags: GlobalOptions())) ?? CLIConfig()
        let ask = Terminal.interactive
        if let endpoint = endpoint ?? globals.endpoint {
            config.endpoint = endpoint
        } else if ask {
            config.endpoint = Terminal.ask("controller endpoint (https://HOST:8700)", current: config.endpoint)
        }
        // --token - and --token-file keep the token out of argv, where every user's ps would see it.
        let given = token ?? globals.token
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
        var identity = ""
        if verify {
            let client = CorralClient(endpoint: endpoint, token: token, caFile: config.caFile, timeout: .seconds(10))
            do {
                let me = try await client.whoami()
                identity = " (you are \(me.user), \(me.role))"
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
        try Files.writeAtomically(CLIConfig.path, config.render(), mode: 0o600)
        FileHandleOutput.stdout("saved \(CLIConfig.path)\(identity)\nnext: corral submit -- echo hello\n")
        return 0
    }
}
