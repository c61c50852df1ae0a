import ClusterCore
import ClusterWire
import CorralSupport

/// The job flags `submit` and `run` share, then the job's command: `[--gpus N --mem 8G ...] [--] CMD ARGS...`.
enum JobFlags {
    static let noCommand = "no command to run: corral submit [options] -- COMMAND [ARGS...]"

    /// The request, and `--wait` and `-f FILE` into `options`. The command starts at `--` or at the first word
    /// that is not an option: from there every word is the job's, including ones that look like our flags.
    /// With a spec file the command may come from it; with none and `askable`, `options.ask` is set instead.
    static func read(
        _ reader: inout ArgumentReader,
        options: inout SubmitOptions,
        askable: Bool
    ) throws(UsageError) -> SubmitJobRequest {
        var request = SubmitJobRequest(command: [])
        reading: while let argument = try reader.next() {
            let flag: String
            switch argument {
            case .option(let name): flag = name
            case .positional(let word):
                request.command = [word] + reader.rest()
                break reading
            }
            switch flag {
            case "--help", "-h": throw UsageError.helpRequested
            case "--wait", "-w": options.wait = true
            case "--hold", "-H": request.hold = true
            case "--notify": request.notify = try reader.value(for: flag)
            case "-f", "--file": options.file = try reader.value(for: flag)
            case "--name": request.name = try reader.value(for: flag)
            case "--gpus": request.gpus = try reader.integer(for: flag)
            case "--gpu-type": request.gpuType = try reader.value(for: flag)
            case "--gpu-mem", "--gpu-memory":
                let bytes = try reader.value(for: flag, expecting: "a size such as 40G or 80G") { text in
                    ByteSize.parseGPUMemory(text).flatMap { $0 > 0 ? $0 : nil }
                }
                request.gpuMemory = ByteCount(bytes)
            case "--cpus": request.cpus = try reader.integer(for: flag)
            case "--nodes", "-N": request.nodes = try reader.integer(for: flag)
            case "--gpus-per-node": request.gpusPerNode = try reader.integer(for: flag)
            case "--cpus-per-node": request.cpusPerNode = try reader.integer(for: flag)
            case "--mem-per-node", "--memory-per-node":
                request.memoryPerNode = ByteCount(
                    try reader.value(for: flag, expecting: "a size such as 512M or 32G", ByteSize.parse)
                )
            case "--array", "-a":
                let text = try reader.value(for: flag)
                do {
                    _ = try ArraySpec.parse(text)
                } catch {
                    throw UsageError("--array: \(error.message)")
                }
                request.array = text
            case "--mem", "--memory":
                request.memory = ByteCount(
                    try reader.value(for: flag, expecting: "a size such as 512M or 32G", ByteSize.parse)
                )
            case "--queue", "-q": request.queue = try reader.value(for: flag)
            case "--env", "-e":
                let (key, text) = try reader.keyValue(for: flag)
                request.env = (request.env ?? [:]).merging([key: text]) { $1 }
            case "--cwd": request.cwd = try reader.value(for: flag)
            case "--time-limit", "-t": request.timeLimit = try reader.seconds(for: flag)
            case "--kill-grace":
                // Zero is allowed here (no grace at all), unlike a time limit.
                let seconds: Int = try reader.value(for: flag, expecting: "seconds or 30s, 2m") { text in
                    text == "0" ? 0 : DurationText.seconds(text)
                }
                request.killGrace = seconds
            case "--signal":
                let signal = try reader.value(for: flag, expecting: "SIGNAL[@SECONDS] such as USR1@120") { text in
                    JobSignal.parse(text)
                }
                request.checkpointSignal = signal.description
            case "--retries": request.maxRetries = try reader.integer(for: flag)
            case "--priority": request.priority = try reader.integer(for: flag)
            case "--image": request.image = try reader.value(for: flag)
            case "--label":
                let (key, text) = try reader.keyValue(for: flag)
                request.labels = (request.labels ?? [:]).merging([key: text]) { $1 }
            case "--after": request.dependsOn = (request.dependsOn ?? []) + [try reader.value(for: flag)]
            case "--stage", "--stage-checksum":
                let stage = try reader.value(for: flag, expecting: "SRC or SRC:NAME, an absolute path") { text in
                    try? StageSource.parse(text)
                }
                let checksum: Bool? = flag == "--stage-checksum" ? true : nil
                request.stage =
                    (request.stage ?? []) + [StageRequest(source: stage.source, name: stage.name, checksum: checksum)]
            default: throw UsageError.unknownOption(flag, for: "submit")
            }
        }
        if request.command.isEmpty, options.file == nil, askable {
            options.ask = true
        } else if request.command.isEmpty, options.file == nil {
            throw UsageError(noCommand)
        }
        // With a spec file the cwd default is applied after merging (the file may set it).
        if request.cwd == nil && options.file == nil { request.cwd = Files.currentDirectory() }
        return request
    }

    /// The request to send: the spec file's, with every flag on top, or the flags alone.
    static func request(_ flags: SubmitJobRequest, options: SubmitOptions) throws(CLIError) -> SubmitJobRequest {
        guard let file = options.file else { return flags }
        return SpecFile.merge(file: try SpecFile.load(file), flags: flags)
    }
}

/// How `submit` (and `run`) behave beyond the spec itself.
struct SubmitOptions: Sendable, Equatable {
    var wait = false
    var file: String?
    /// No command was given and `corral submit` runs on a terminal: ask for the job (`SubmitPrompts`).
    var ask = false

    init(wait: Bool = false, file: String? = nil) {
        self.wait = wait
        self.file = file
    }
}
