import ClusterCore

/// What sbatch's options say, the last word winning (the `#SBATCH` lines first, then the command line). Each
/// value is checked as it is read, so an error names the option that is wrong.
struct SbatchValues: Equatable, Sendable {
    var name: String?
    var output: String?
    var error: String?
    var chdir: String?
    var partition: String?
    var time: Int??
    var nodes: Int?
    var ntasks: Int?
    var tasksPerNode: Int?
    var cpusPerTask: Int?
    var memory: Int64?
    var memoryPerCPU: Int64?
    var memoryPerGPU: Int64?
    var gpus: GPUCount?
    var gpusPerNode: GPUCount?
    var gpusPerTask: GPUCount?
    var dependsOn: [String]?
    var export: String?
    var wrap: String?
    var array: String?
    var signal: String?
    /// `--signal=B:...`: for the batch shell itself; without it, for the job's steps only (`SbatchPrologue`).
    var signalToBatch = false
    var cpusPerGPU: Int?
    var openMode: String?
    var priority: Int?
    var parsable = false
    var wait = false
    /// `-H/--hold`: submitted held (released with scontrol release).
    var hold = false
    var quiet = false
    var help = false
    var warnings: [String] = []

    struct GPUCount: Equatable, Sendable {
        var type: String?
        var count: Int
    }

    init(_ settings: [SbatchSetting]) throws(SlurmError) {
        for setting in settings { try apply(setting) }
    }

    mutating func apply(_ setting: SbatchSetting) throws(SlurmError) {
        let value = setting.value ?? ""
        let option = "--\(setting.name)"
        if let why = SbatchOption.byLong[setting.name]?.ignored {
            warnings.append("\(option) is ignored: \(why)")
            return
        }
        switch setting.name {
        case "job-name": name = try Self.text(value, option: option, max: SpecLimits.maxNameLength)
        case "output": output = try Self.text(value, option: option, max: 4096)
        case "error": error = try Self.text(value, option: option, max: 4096)
        case "chdir": chdir = try Self.text(value, option: option, max: 4096)
        case "partition": partition = try Self.text(value, option: option, max: 64)
        case "time": time = try SlurmTime.seconds(value, option: option)
        case "nodes": nodes = try Self.nodes(value)
        case "ntasks": ntasks = try Self.count(value, option: option, max: 1 << 16)
        case "ntasks-per-node": tasksPerNode = try Self.count(value, option: option, max: 1024)
        case "cpus-per-task": cpusPerTask = try Self.count(value, option: option, max: SpecLimits.maxCPUs)
        case "mem": memory = try Self.memory(value, option: option)
        case "mem-per-cpu": memoryPerCPU = try Self.memory(value, option: option)
        case "mem-per-gpu": memoryPerGPU = try Self.memory(value, option: option)
        case "gpus": gpus = try Self.gpus(value, option: option)
        case "gpus-per-node": gpusPerNode = try Self.gpus(value, option: option)
        case "gpus-per-task": gpusPerTask = try Self.gpus(value, option: option)
        case "gres": gpusPerNode = try gres(value)
        case "array":
            do {
                _ = try ArraySpec.parse(value)
            } catch {
                throw SlurmError("\(option)=\(value.prefix(64)): \(error.message)")
            }
            array = value
        case "dependency": dependsOn = try Self.dependency(value)
        case "export": export = value
        case "wrap": wrap = value
        case "signal":
            signal = try Self.signal(value)
            signalToBatch = value.hasPrefix("B:") || value.hasPrefix("RB:") || value.hasPrefix("BR:")
        case "cpus-per-gpu": cpusPerGPU = try Self.count(value, option: option, max: SpecLimits.maxCPUs)
        case "begin", "test-only", "deadline":
            throw SlurmError("\(option) is not supported: Corral starts a job as soon as it can")
        case "open-mode":
            guard ["append", "truncate"].contains(value) else {
                throw SlurmError("\(option)=\(value.prefix(64)): expected append or truncate")
            }
            openMode = value
        case "priority":
            priority = try Self.count(
                value,
                option: option,
                max: SpecLimits.priorityRange.upperBound,
                least: SpecLimits.priorityRange.lowerBound
            )
        case "parsable": parsable = true
        case "wait": wait = true
        case "quiet": quiet = true
        case "help", "usage": help = true
        case "requeue": break  // Corral requeues a job whose node was lost by itself (its infrastructure budget).
        case "no-requeue":
            warnings.append("--no-requeue is ignored: Corral requeues a job whose node was lost, once per budget")
        case "hold": hold = true
        default:
            throw SlurmError("unrecognized option '\(option)'")
        }
    }

    static func text(_ value: String, option: String, max: Int) throws(SlurmError) -> String {
        guard !value.isEmpty else { throw SlurmError("\(option) is empty") }
        guard value.count <= max else { throw SlurmError("\(option) is too long (at most \(max) characters)") }
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw SlurmError("\(option) contains a control character")
        }
        return value
    }

    static func count(_ value: String, option: String, max: Int, least: Int = 1) throws(SlurmError) -> Int {
        guard value.count <= 12, let number = Int(value), number >= least, number <= max else {
            throw SlurmError("\(option)=\(value.prefix(64)): expected a whole number from \(least) to \(max)")
        }
        return number
    }

    /// `N`, or Slurm's `MIN-MAX` (Corral takes MIN: a gang has a fixed size).
    static func nodes(_ value: String) throws(SlurmError) -> Int {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw SlurmError("--nodes=\(value.prefix(64)): expected N or MIN-MAX") }
        let least = try count(String(parts[0]), option: "--nodes", max: SpecLimits.maxNodes)
        if parts.count == 2 {
            let most = try count(String(parts[1]), option: "--nodes", max: SpecLimits.maxNodes)
            guard most >= least else { throw SlurmError("--nodes=\(value): the maximum is below the minimum") }
        }
        return least
    }

    /// Slurm's sizes: a number of megabytes (MiB), or with a suffix K, M, G or T (binary).
    static func memory(_ value: String, option: String) throws(SlurmError) -> Int64? {
        var digits = Substring(value)
        var unit: Int64 = 1 << 20
        // "16GB" as submitit writes it is 16G.
        if digits.count > 1, digits.last == "B" || digits.last == "b", digits.dropLast().last?.isLetter == true {
            digits = digits.dropLast()
        }
        if let last = digits.last, last.isLetter {
            switch last.uppercased() {
            case "K": unit = 1 << 10
            case "M": unit = 1 << 20
            case "G": unit = 1 << 30
            case "T": unit = 1 << 40
            default: throw SlurmError("\(option)=\(value.prefix(64)): the unit must be K, M, G or T")
            }
            digits = digits.dropLast()
        }
        guard digits.count <= 12, let number = Int64(digits), number >= 0, number <= SpecLimits.maxMemory / unit else {
            throw SlurmError("\(option)=\(value.prefix(64)): expected a size such as 16G or 4000 (megabytes)")
        }
        return number == 0 ? nil : number * unit
    }

    /// `[type:]N`.
    static func gpus(_ value: String, option: String) throws(SlurmError) -> GPUCount {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw SlurmError("\(option)=\(value.prefix(64)): expected [TYPE:]COUNT") }
        let number = try count(String(parts.last!), option: option, max: SpecLimits.maxGPUs, least: 0)
        let type = parts.count == 2 ? try text(String(parts[0]), option: option, max: 64) : nil
        return GPUCount(type: type, count: number)
    }

    /// `gpu[:TYPE][:N]` (N defaults to 1) among other resources, which Corral does not have (a warning each).
    mutating func gres(_ value: String) throws(SlurmError) -> GPUCount? {
        var found: GPUCount?
        for item in value.split(separator: ",") {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts[0] == "gpu" else {
                warnings.append("--gres=\(item.prefix(64)) is ignored: Corral schedules GPUs, CPUs and memory only")
                continue
            }
            switch parts.count {
            case 1: found = GPUCount(type: nil, count: 1)
            case 2:
                found =
                    parts[1].allSatisfy(\.isNumber)
                    ? GPUCount(type: nil, count: try Self.count(parts[1], option: "--gres", max: SpecLimits.maxGPUs))
                    : GPUCount(type: try Self.text(parts[1], option: "--gres", max: 64), count: 1)
            case 3:
                found = GPUCount(
                    type: try Self.text(parts[1], option: "--gres", max: 64),
                    count: try Self.count(parts[2], option: "--gres", max: SpecLimits.maxGPUs)
                )
            default: throw SlurmError("--gres=\(value.prefix(64)): expected gpu[:TYPE][:COUNT]")
            }
        }
        return found
    }

    /// `afterok:ID[:ID...]`, several joined by `,`; other kinds are refused (Corral starts a job only once its
    /// dependencies have succeeded). The ids are Corral ids.
    static func dependency(_ value: String) throws(SlurmError) -> [String] {
        guard !value.contains("?") else {
            throw SlurmError("--dependency=\(value.prefix(64)): '?' (any of) is not supported: Corral waits for all")
        }
        var ids: [String] = []
        for item in value.split(separator: ",") {
            let parts = item.split(separator: ":").map(String.init)
            guard let kind = parts.first, kind == "afterok" else {
                throw SlurmError(
                    "--dependency=\(value.prefix(64)): dependency type '\((parts.first ?? "").prefix(32))' is not supported: "
                        + "Corral starts a job once its dependencies succeeded (afterok)"
                )
            }
            guard parts.count > 1 else { throw SlurmError("--dependency=\(value.prefix(64)): afterok names no job") }
            for text in parts.dropFirst() {
                guard let id = SlurmJobID.corralID(text) else {
                    throw SlurmError("--dependency=\(value.prefix(64)): '\(text.prefix(32))' is not a job id")
                }
                ids.append(id)
            }
        }
        guard !ids.isEmpty else { throw SlurmError("--dependency is empty") }
        return ids
    }

    /// `[B:|R:]SIG[@SECONDS]`, as Corral's checkpoint signal (`USR1@120`); B: (the batch shell only) becomes
    /// the whole job.
    static func signal(_ value: String) throws(SlurmError) -> String {
        var text = Substring(value)
        for prefix in ["B:", "R:", "RB:", "BR:"] where text.hasPrefix(prefix) { text = text.dropFirst(prefix.count) }
        guard let signal = JobSignal.parse(String(text)) else {
            throw SlurmError(
                "--signal=\(value.prefix(64)): expected [B:]SIGNAL[@SECONDS] with a signal such as USR1, USR2, TERM "
                    + "and 1-\(JobSignal.maxSeconds) seconds"
            )
        }
        return signal.description
    }
}
