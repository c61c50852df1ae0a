import ClusterCore
import ClusterWire
import CorralSupport

/// `corral submit [--gpus N --cpus N --mem 8G --queue Q --name N --env K=V --cwd DIR ...] -- CMD ARGS...`
enum SubmitParser {
    static let usage = """
        usage: corral submit [options] -- COMMAND [ARGS...]

        options:
          --name NAME          a name to find the job by
          --gpus N             GPUs (default 0)
          --gpu-type TYPE      only GPUs whose name contains TYPE, e.g. H100
          --gpu-mem SIZE       only GPUs with at least SIZE of memory each, e.g. 80G
          --cpus N             CPU cores (default 1)
          --mem SIZE           memory, e.g. 32G (default: no limit asked)
          --queue Q            queue (default "default")
          --env KEY=VALUE      an environment variable (repeatable)
          --cwd DIR            working directory on the node (default: the current directory)
          --time-limit T       seconds, or 90s, 30m, 2h, 1d
          --kill-grace T       time between SIGTERM and SIGKILL when stopped (default 10s)
          --retries N          retries when the job itself fails (default 0)
          --priority N         higher runs first (default 0)
          --image IMAGE        run in a container image
          --label KEY=VALUE    run only on nodes with this label (repeatable)
          --after JOB          run after this job succeeds (repeatable)
          -f, --file FILE      read the spec from a TOML file; flags override it
          --wait               wait for the job to end and exit with its exit code

        example:
          corral submit --gpus 2 --mem 64G --name train -- python train.py --epochs 10
        prints the job id.
        """

    /// The request, or nil when help was asked for (before the command).
    static func parse(_ args: [String], globals: inout GlobalOptions) throws(CLIError) -> SubmitJobRequest? {
        var options = SubmitOptions()
        return try parse(args, globals: &globals, options: &options)
    }

    /// Also reads `--wait` and `-f FILE` into `options`. With a spec file, the command may come from it.
    static func parse(
        _ args: [String],
        globals: inout GlobalOptions,
        options: inout SubmitOptions,
        askable: Bool = false
    )
        throws(CLIError) -> SubmitJobRequest?
    {
        var request = SubmitJobRequest(command: [])
        var index = 0
        func value(_ flag: String) throws(CLIError) -> String {
            guard index + 1 < args.count else { throw CLIError.usage("\(flag) needs a value") }
            index += 1
            return args[index]
        }
        func integer(_ flag: String) throws(CLIError) -> Int {
            let text = try value(flag)
            guard let number = Int(text) else { throw CLIError.usage("\(flag) takes a whole number, got '\(text)'") }
            return number
        }
        func pair(_ flag: String) throws(CLIError) -> (String, String) {
            let text = try value(flag)
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw CLIError.usage("\(flag) takes KEY=VALUE, got '\(text)'")
            }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
        while index < args.count {
            if try globals.consume(args, at: &index) { continue }
            let flag = args[index]
            if flag == "--help" || flag == "-h" { return nil }
            if flag == "--" {
                request.command = Array(args[(index + 1)...])
                break
            }
            if !flag.hasPrefix("-") {
                request.command = Array(args[index...])
                break
            }
            switch flag {
            case "--wait", "-w": options.wait = true
            case "-f", "--file": options.file = try value(flag)
            case "--name": request.name = try value(flag)
            case "--gpus": request.gpus = try integer(flag)
            case "--gpu-type": request.gpuType = try value(flag)
            case "--gpu-mem", "--gpu-memory":
                let text = try value(flag)
                guard let bytes = ByteSize.parse(text), bytes > 0 else {
                    throw CLIError.usage("\(flag) takes a size such as 40G or 80G, got '\(text)'")
                }
                request.gpuMemory = ByteCount(bytes)
            case "--cpus": request.cpus = try integer(flag)
            case "--mem", "--memory":
                let text = try value(flag)
                guard let bytes = ByteSize.parse(text) else {
                    throw CLIError.usage("\(flag) takes a size such as 512M or 32G, got '\(text)'")
                }
                request.memory = ByteCount(bytes)
            case "--queue", "-q": request.queue = try value(flag)
            case "--env", "-e":
                let (key, text) = try pair(flag)
                request.env = (request.env ?? [:]).merging([key: text]) { $1 }
            case "--cwd": request.cwd = try value(flag)
            case "--time-limit", "-t":
                let text = try value(flag)
                guard let seconds = parseDuration(text) else {
                    throw CLIError.usage("\(flag) takes seconds or 90s, 30m, 2h, 1d, got '\(text)'")
                }
                request.timeLimit = seconds
            case "--kill-grace":
                let text = try value(flag)
                guard let seconds = text == "0" ? 0 : parseDuration(text) else {
                    throw CLIError.usage("\(flag) takes seconds or 30s, 2m, got '\(text)'")
                }
                request.killGrace = seconds
            case "--retries": request.maxRetries = try integer(flag)
            case "--priority": request.priority = try integer(flag)
            case "--image": request.image = try value(flag)
            case "--label":
                let (key, text) = try pair(flag)
                request.labels = (request.labels ?? [:]).merging([key: text]) { $1 }
            case "--after": request.dependsOn = (request.dependsOn ?? []) + [try value(flag)]
            default: throw CLIError.usage("unknown option '\(flag)' for submit")
            }
            index += 1
        }
        if request.command.isEmpty, options.file == nil, askable {
            options.ask = true
        } else if request.command.isEmpty, options.file == nil {
            throw CLIError.usage(noCommand)
        }
        // With a spec file the cwd default is applied after merging (the file may set it).
        if request.cwd == nil && options.file == nil { request.cwd = Files.currentDirectory() }
        return request
    }

    static let noCommand = "no command to run: corral submit [options] -- COMMAND [ARGS...]"

    /// "3600", "90s", "30m", "2h", "1d" -> seconds.
    static func parseDuration(_ text: String) -> Int? {
        guard let last = text.last else { return nil }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let (digits, unit) = units[last].map { (text.dropLast(), $0) } ?? (Substring(text), 1)
        guard let value = Int(digits), value > 0 else { return nil }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : seconds
    }
}

/// How `submit` (and `run`) behave beyond the spec itself.
public struct SubmitOptions: Sendable, Equatable {
    public var wait = false
    public var file: String?
    /// No command was given and `corral submit` runs on a terminal: ask for the job (`SubmitPrompts`).
    public var ask = false
    public init(wait: Bool = false, file: String? = nil) {
        self.wait = wait
        self.file = file
    }
}
