import ClusterCore
import ClusterWire
import CorralSupport

/// `corral submit -f job.toml`: a job spec as a TOML file, with the API's field names.
///
///     name = "train"
///     command = ["python", "train.py", "--epochs", "3"]   # or a string, run with sh -c
///     gpus = 2
///     memory = "64G"
///     time_limit = "2h"
///     [env]
///     WANDB_MODE = "offline"
enum SpecFile {
    static func load(_ path: String) throws(CLIError) -> SubmitJobRequest {
        let table: TOMLTable
        do {
            table = try TOML.parse(try Files.read(path, limit: 1 << 20))
        } catch let error as TOMLError {
            throw CLIError.failure("\(path): \(error)")
        } catch {
            throw CLIError.failure("\(error)")
        }
        var request = SubmitJobRequest(command: [])
        for key in table.keys {
            guard let value = table[key] else { continue }
            try apply(key, value, to: &request, path: path)
        }
        guard !request.command.isEmpty else { throw CLIError.failure("\(path): command is required") }
        return request
    }

    static func apply(
        _ key: String,
        _ value: TOMLValue,
        to request: inout SubmitJobRequest,
        path: String
    )
        throws(CLIError)
    {
        func bad(_ what: String) -> CLIError { CLIError.failure("\(path): \(key) must be \(what)") }
        func int() throws(CLIError) -> Int {
            guard case .integer(let number) = value, let small = Int(exactly: number) else {
                throw bad("a whole number")
            }
            return small
        }
        /// A whole number of seconds, or a duration string ("90s", "30m", "2h", "1d").
        func seconds(_ what: String) throws(CLIError) -> Int {
            guard case .string(let text) = value else { return try int() }
            guard let seconds = DurationText.seconds(text) else { throw bad(what) }
            return seconds
        }
        func string() throws(CLIError) -> String {
            guard case .string(let text) = value else { throw bad("a string") }
            return text
        }
        func bytes() throws(CLIError) -> ByteCount {
            switch value {
            case .integer(let number): return ByteCount(number)
            case .string(let text):
                guard let parsed = ByteSize.parse(text) else { throw bad("bytes or a size such as \"32G\"") }
                return ByteCount(parsed)
            default: throw bad("bytes or a size such as \"32G\"")
            }
        }
        func strings() throws(CLIError) -> [String: String] {
            guard case .table(let table) = value else { throw bad("a table of strings") }
            var result: [String: String] = [:]
            for name in table.keys {
                guard case .string(let text) = table[name] else { throw bad("a table of strings") }
                result[name] = text
            }
            return result
        }
        switch key {
        case "name": request.name = try string()
        case "command":
            switch value {
            case .string(let line): request.command = ["sh", "-c", line]
            case .array(let items):
                var argv: [String] = []
                for item in items {
                    guard case .string(let text) = item else { throw bad("a string or an array of strings") }
                    argv.append(text)
                }
                request.command = argv
            default: throw bad("a string or an array of strings")
            }
        case "cwd": request.cwd = try string()
        case "queue": request.queue = try string()
        case "gpus": request.gpus = try int()
        case "gpu_type": request.gpuType = try string()
        case "gpu_memory":
            // As vendors name GPU memory: "80G" is 80 x 10^9 bytes (an "80 GB" card has 79.6 GiB).
            switch value {
            case .integer(let number): request.gpuMemory = ByteCount(number)
            case .string(let text):
                guard let parsed = ByteSize.parseGPUMemory(text) else { throw bad("bytes or a size such as \"80G\"") }
                request.gpuMemory = ByteCount(parsed)
            default: throw bad("bytes or a size such as \"80G\"")
            }
        case "cpus": request.cpus = try int()
        case "nodes": request.nodes = try int()
        case "gpus_per_node": request.gpusPerNode = try int()
        case "cpus_per_node": request.cpusPerNode = try int()
        case "memory_per_node": request.memoryPerNode = try bytes()
        case "array": request.array = try string()
        case "memory": request.memory = try bytes()
        case "image": request.image = try string()
        case "time_limit": request.timeLimit = try seconds("seconds or 90s, 30m, 2h, 1d")
        case "kill_grace": request.killGrace = try seconds("seconds or 30s, 2m")
        case "max_retries": request.maxRetries = try int()
        case "priority": request.priority = try int()
        case "env": request.env = try strings()
        case "labels": request.labels = try strings()
        case "stage", "stage_checksum":
            guard case .array(let items) = value else { throw bad("an array of \"SRC[:NAME]\" paths") }
            var stages: [StageRequest] = []
            for item in items {
                guard case .string(let text) = item, let stage = try? StageSource.parse(text) else {
                    throw bad("an array of \"SRC[:NAME]\" paths (absolute, NAME of A-Z, 0-9 and _)")
                }
                stages.append(
                    StageRequest(source: stage.source, name: stage.name, checksum: key == "stage_checksum" ? true : nil)
                )
            }
            request.stage = (request.stage ?? []) + stages
        case "depends_on":
            guard case .array(let items) = value else { throw bad("an array of job ids") }
            var ids: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw bad("an array of job ids") }
                ids.append(text)
            }
            request.dependsOn = ids
        default:
            throw CLIError.failure("\(path): unknown field '\(key)'")
        }
    }

    /// The file's spec with every field the flags set on top.
    static func merge(file: SubmitJobRequest, flags: SubmitJobRequest) -> SubmitJobRequest {
        var merged = file
        if !flags.command.isEmpty { merged.command = flags.command }
        merged.name = flags.name ?? merged.name
        merged.cwd = flags.cwd ?? merged.cwd
        merged.queue = flags.queue ?? merged.queue
        merged.gpus = flags.gpus ?? merged.gpus
        merged.gpuType = flags.gpuType ?? merged.gpuType
        merged.gpuMemory = flags.gpuMemory ?? merged.gpuMemory
        merged.cpus = flags.cpus ?? merged.cpus
        merged.memory = flags.memory ?? merged.memory
        merged.nodes = flags.nodes ?? merged.nodes
        merged.gpusPerNode = flags.gpusPerNode ?? merged.gpusPerNode
        merged.cpusPerNode = flags.cpusPerNode ?? merged.cpusPerNode
        merged.memoryPerNode = flags.memoryPerNode ?? merged.memoryPerNode
        merged.array = flags.array ?? merged.array
        merged.image = flags.image ?? merged.image
        merged.timeLimit = flags.timeLimit ?? merged.timeLimit
        merged.killGrace = flags.killGrace ?? merged.killGrace
        merged.maxRetries = flags.maxRetries ?? merged.maxRetries
        merged.priority = flags.priority ?? merged.priority
        if let env = flags.env { merged.env = (merged.env ?? [:]).merging(env) { $1 } }
        if let labels = flags.labels { merged.labels = (merged.labels ?? [:]).merging(labels) { $1 } }
        if let dependsOn = flags.dependsOn { merged.dependsOn = (merged.dependsOn ?? []) + dependsOn }
        if let stage = flags.stage { merged.stage = (merged.stage ?? []) + stage }
        if merged.cwd == nil { merged.cwd = Files.currentDirectory() }
        return merged
    }
}
