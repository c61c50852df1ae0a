import ClusterCore
public import ClusterWire

/// Options every command takes.
public struct GlobalOptions: Sendable, Equatable {
    public var endpoint: String?
    public var token: String?
    public var json = false

    /// Takes the global flag at `index` (and its value), advancing past it; false when it is not one.
    mutating func consume(_ arguments: [String], at index: inout Int) throws(CLIError) -> Bool {
        let argument = arguments[index]
        switch argument {
        case "--json":
            json = true
        case "--endpoint", "--token":
            guard index + 1 < arguments.count else { throw CLIError.usage("\(argument) needs a value") }
            if argument == "--endpoint" { endpoint = arguments[index + 1] } else { token = arguments[index + 1] }
            index += 1
        default:
            if argument.hasPrefix("--endpoint=") {
                endpoint = String(argument.dropFirst(11))
            } else if argument.hasPrefix("--token=") {
                token = String(argument.dropFirst(8))
            } else {
                return false
            }
        }
        index += 1
        return true
    }
}

/// A parsed command line. Parsing takes `[String]` and touches nothing, so it is tested without processes.
public enum CLICommand: Sendable, Equatable {
    case help(topic: String?)
    case version
    case configure(endpoint: String?, token: String?, tokenFile: String?, caFile: String?, verify: Bool = true)
    case submit(SubmitJobRequest, SubmitOptions)
    case run(SubmitJobRequest, SubmitOptions)
    case list(ListOptions)
    case show(String)
    case cancel([String], yes: Bool)
    case wait([String])
    case nodeShow(String)
    case completion(String)
    case configShow
    case configSet(key: String, value: String)
    case nodes
    case explain(String)
    case logs(String, follow: Bool, tail: Int? = nil)
    case queues
    case tokensCreate(user: String, admin: Bool, expiresIn: Int?)
    case tokensList
    case tokensRevoke(prefix: String)
    case whoami
    case nodesRevoke(String)
    case drain(node: String, reason: String?)
    case resume(node: String)

    public static func parse(_ arguments: [String]) throws(CLIError) -> (CLICommand, GlobalOptions) {
        var globals = GlobalOptions()
        var index = 0
        while index < arguments.count, try globals.consume(arguments, at: &index) {}
        guard index < arguments.count else { return (.help(topic: nil), globals) }
        let name = arguments[index]
        let remaining = Array(arguments[(index + 1)...])
        if name == "submit" || name == "run" {
            // The job's command is the user's: global flags are read only before it starts.
            var options = SubmitOptions()
            // `corral submit` with no command asks for the job on a terminal (never in scripts).
            let askable = name == "submit" && Terminal.interactive
            guard
                let request = try SubmitParser.parse(remaining, globals: &globals, options: &options, askable: askable)
            else {
                return (.help(topic: "submit"), globals)
            }
            return (name == "run" ? .run(request, options) : .submit(request, options), globals)
        }
        // Other commands take no free-form arguments, so global flags may appear anywhere after them.
        var args: [String] = []
        var position = 0
        while position < remaining.count {
            if try !globals.consume(remaining, at: &position) {
                args.append(remaining[position])
                position += 1
            }
        }
        if args.contains("--help") || args.contains("-h") { return (.help(topic: name), globals) }
        switch name {
        case "help", "--help", "-h": return (.help(topic: args.first), globals)
        case "version", "--version": return (.version, globals)
        case "configure": return (try parseConfigure(args), globals)
        case "ls", "ps": return (try parseList(args), globals)
        case "show":
            guard args.count == 1, !args[0].hasPrefix("-") else { throw CLIError.usage("usage: corral show JOB") }
            return (.show(args[0]), globals)
        case "cancel":
            let yes = args.contains("--yes") || args.contains("-y")
            let targets = args.filter { $0 != "--yes" && $0 != "-y" }
            guard !targets.isEmpty, targets.allSatisfy({ !$0.hasPrefix("-") }) else {
                throw CLIError.usage("usage: corral cancel TARGET... [--yes]  (an id, a name, 1,3,5, 2-4 or all)")
            }
            return (.cancel(targets, yes: yes), globals)
        case "wait":
            guard !args.isEmpty, args.allSatisfy({ !$0.hasPrefix("-") }) else {
                throw CLIError.usage("usage: corral wait TARGET...")
            }
            return (.wait(args), globals)
        case "completion":
            guard args.count == 1, ["bash", "zsh", "fish"].contains(args[0]) else {
                throw CLIError.usage("usage: corral completion bash|zsh|fish")
            }
            return (.completion(args[0]), globals)
        case "config":
            if args == ["show"] { return (.configShow, globals) }
            if args.count == 3 && args[0] == "set" {
                guard ["endpoint", "token", "ca_file"].contains(args[1]) else {
                    throw CLIError.usage("corral config set takes endpoint, token or ca_file")
                }
                return (.configSet(key: args[1], value: args[2]), globals)
            }
            throw CLIError.usage("usage: corral config show | corral config set KEY VALUE")
        case "nodes":
            if args.count == 2 && args[0] == "revoke" { return (.nodesRevoke(args[1]), globals) }
            if args.count == 2 && args[0] == "show" { return (.nodeShow(args[1]), globals) }
            guard args.isEmpty else { throw CLIError.usage("usage: corral nodes | corral nodes revoke NODE") }
            return (.nodes, globals)
        case "whoami":
            guard args.isEmpty else { throw CLIError.usage("usage: corral whoami") }
            return (.whoami, globals)
        case "tokens":
            return (try parseTokens(args), globals)
        case "logs":
            let usage = "usage: corral logs [-f] [--tail N] JOB"
            var follow = false
            var tail: Int?
            var rest: [String] = []
            var index = 0
            while index < args.count {
                switch args[index] {
                case "-f", "--follow": follow = true
                case "--tail", "-n":
                    guard index + 1 < args.count, let lines = Int(args[index + 1]), lines >= 0, lines <= 1_000_000
                    else { throw CLIError.usage("--tail takes a number of lines from 0 to 1000000\n\(usage)") }
                    tail = lines
                    index += 1
                default: rest.append(args[index])
                }
                index += 1
            }
            guard rest.count == 1, !rest[0].hasPrefix("-") else { throw CLIError.usage(usage) }
            return (.logs(rest[0], follow: follow, tail: tail), globals)
        case "explain":
            guard args.count == 1, !args[0].hasPrefix("-") else { throw CLIError.usage("usage: corral explain JOB") }
            return (.explain(args[0]), globals)
        case "queues":
            guard args.isEmpty else { throw CLIError.usage("usage: corral queues") }
            return (.queues, globals)
        case "drain":
            var reason: String?
            var rest = args
            if let flag = rest.firstIndex(of: "--reason") {
                guard flag + 1 < rest.count else { throw CLIError.usage("--reason needs a value") }
                reason = rest[flag + 1]
                rest.removeSubrange(flag...(flag + 1))
            }
            guard rest.count == 1, !rest[0].hasPrefix("-") else {
                throw CLIError.usage("usage: corral drain NODE [--reason TEXT]")
            }
            return (.drain(node: rest[0], reason: reason), globals)
        case "resume":
            guard args.count == 1, !args[0].hasPrefix("-") else { throw CLIError.usage("usage: corral resume NODE") }
            return (.resume(node: args[0]), globals)
        default:
            throw CLIError.usage("unknown command '\(name)'")
        }
    }

    static func parseTokens(_ args: [String]) throws(CLIError) -> CLICommand {
        let usage =
            "usage: corral tokens create --user NAME [--admin] [--expires 30d] | tokens list | tokens revoke PREFIX"
        switch args.first {
        case "list" where args.count == 1: return .tokensList
        case "revoke" where args.count == 2: return .tokensRevoke(prefix: args[1])
        case "create":
            var user: String?
            var admin = false
            var expires: Int?
            var index = 1
            while index < args.count {
                switch args[index] {
                case "--admin": admin = true
                case "--user" where index + 1 < args.count:
                    user = args[index + 1]
                    index += 1
                case "--expires" where index + 1 < args.count:
                    guard let seconds = SubmitParser.parseDuration(args[index + 1]) else {
                        throw CLIError.usage("--expires takes seconds or 90s, 30m, 2h, 30d, got '\(args[index + 1])'")
                    }
                    expires = seconds
                    index += 1
                default: throw CLIError.usage(usage)
                }
                index += 1
            }
            guard let user else { throw CLIError.usage(usage) }
            return .tokensCreate(user: user, admin: admin, expiresIn: expires)
        default: throw CLIError.usage(usage)
        }
    }

    static func parseConfigure(_ args: [String]) throws(CLIError) -> CLICommand {
        var endpoint: String?
        var token: String?
        var tokenFile: String?
        var caFile: String?
        var verify = true
        var index = 0
        while index < args.count {
            let flag = args[index]
            if flag == "--no-verify" {
                verify = false
                index += 1
                continue
            }
            guard ["--endpoint", "--token", "--token-file", "--ca-file"].contains(flag), index + 1 < args.count else {
                throw CLIError.usage(
                    "usage: corral configure --endpoint URL (--token TOKEN | --token - | --token-file FILE) [--ca-file FILE] [--no-verify]"
                )
            }
            let value = args[index + 1]
            switch flag {
            case "--endpoint": endpoint = value
            case "--token": token = value
            case "--token-file": tokenFile = value
            default: caFile = value
            }
            index += 2
        }
        return .configure(endpoint: endpoint, token: token, tokenFile: tokenFile, caFile: caFile, verify: verify)
    }

    static func parseList(_ args: [String]) throws(CLIError) -> CLICommand {
        var options = ListOptions()
        var index = 0
        while index < args.count {
            switch args[index] {
            case "--all", "-a": options.all = true
            case "--watch", "-w": options.watch = true
            case "--state", "--user", "--queue":
                guard index + 1 < args.count else { throw CLIError.usage("\(args[index]) needs a value") }
                let value = args[index + 1]
                switch args[index] {
                case "--state":
                    for state in value.split(separator: ",") {
                        guard JobState(rawValue: state.uppercased()) != nil else {
                            let known = JobState.allCases.map { $0.rawValue.lowercased() }.joined(separator: ", ")
                            throw CLIError.usage("unknown state '\(state)': use one of \(known)")
                        }
                        options.states.append(state.uppercased())
                    }
                case "--user": options.user = value
                default: options.queue = value
                }
                index += 1
            default: throw CLIError.usage("unknown option '\(args[index])' for ls")
            }
            index += 1
        }
        return .list(options)
    }
}

/// `corral ls` filters.
public struct ListOptions: Sendable, Equatable {
    public var all = false
    public var states: [String] = []
    public var user: String?
    public var queue: String?
    public var watch = false
    public init() {}
}
