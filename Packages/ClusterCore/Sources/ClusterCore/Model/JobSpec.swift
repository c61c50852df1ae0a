/// What a user asks to run. Validated by `validate()` before it is accepted; the controller never stores an
/// invalid spec. The user is not part of the spec: it comes from the token.
public struct JobSpec: Hashable, Sendable {
    public var name: String
    public var command: [String]
    public var cwd: String
    public var env: [String: String]
    public var queue: String
    /// What each node of the job gets: all of it for a one-node job, each rank's share for a gang.
    public var resources: Resources
    /// Nodes the job runs on at once: 1, or a gang of that many ranks, one per node, placed all or nothing.
    public var nodes: Int
    public var gpuType: String?
    /// At least this much memory on each GPU (MiB), e.g. 80000 for 80 GB cards; nil means any.
    public var gpuMemoryMiB: Int?
    public var image: String?
    /// Seconds; nil means the queue's default (none yet).
    public var timeLimit: Int?
    /// Seconds between SIGTERM and SIGKILL when the job is stopped; nil means the agent's default (10 s).
    public var killGrace: Int?
    /// A signal sent ahead of its time limit and of a preemption's SIGTERM (`--signal USR1@120`).
    public var checkpointSignal: JobSignal?
    /// Retries for the job's own failures (non-zero exit, signal). Infrastructure failures use another budget.
    public var maxRetries: Int
    public var priority: Int
    public var labels: [String: String]
    public var dependsOn: [JobID]
    /// Where to post the job's start, end and preemption (`--notify`); nil: nowhere.
    public var notify: NotifyURL?
    /// Files and directories copied to the node before the job starts (`StageSource`).
    public var stage: [StageSource] = []

    public init(
        name: String = "",
        command: [String],
        cwd: String = "/",
        env: [String: String] = [:],
        queue: String = "default",
        resources: Resources = Resources(gpus: 0, cpus: 1, memory: 0),
        nodes: Int = 1,
        gpuType: String? = nil,
        gpuMemoryMiB: Int? = nil,
        image: String? = nil,
        timeLimit: Int? = nil,
        killGrace: Int? = nil,
        maxRetries: Int = 0,
        priority: Int = 0,
        labels: [String: String] = [:],
        dependsOn: [JobID] = []
    ) {
        self.name = name
        self.command = command
        self.cwd = cwd
        self.env = env
        self.queue = queue
        self.resources = resources
        self.nodes = nodes
        self.gpuType = gpuType
        self.gpuMemoryMiB = gpuMemoryMiB
        self.image = image
        self.timeLimit = timeLimit
        self.killGrace = killGrace
        self.maxRetries = maxRetries
        self.priority = priority
        self.labels = labels
        self.dependsOn = dependsOn
    }
}

/// A spec refused, naming the field (in its wire spelling) and why.
public struct SpecError: Error, Hashable, Sendable, CustomStringConvertible {
    public let field: String
    public let message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}

public enum SpecLimits {
    public static let maxArguments = 4096
    public static let maxArgumentBytes = 128 * 1024
    public static let maxCommandBytes = 1024 * 1024
    public static let maxEnvEntries = 1024
    public static let maxEnvValueBytes = 128 * 1024
    public static let maxNameLength = 128
    public static let maxGPUs = 1024
    public static let maxCPUs = 1 << 16
    /// 1 PiB: more than any node has, far from overflowing anything that adds memory up.
    public static let maxMemory: Int64 = 1 << 50
    public static let maxRetries = 100
    public static let priorityRange = -10_000...10_000
    public static let maxTimeLimit = 366 * 24 * 3600
    /// An hour: longer than any checkpoint should take, short enough that a stop still means stop.
    public static let maxKillGrace = 3600
    public static let maxLabels = 64
    public static let maxDependencies = 256
    /// Ranks of one gang job. More than any single job here needs; each rank is an allocation to track.
    public static let maxNodes = 1024
    /// Variables the agent sets itself; a job may not override them.
    public static let reservedEnvPrefixes = ["CORRAL_"]
    public static let reservedEnvNames: Set<String> = ["CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"]
    /// Variables the agent sets for each rank of a gang job (torchrun, DeepSpeed, Horovod and MPI read them);
    /// a one-node job may set them itself.
    public static let gangEnvNames: Set<String> = [
        "MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "NODE_RANK", "NNODES", "GPUS_PER_NODE",
    ]
}

extension JobSpec {
    /// A job of more than one node: its ranks are placed all or nothing and live and die together.
    public var isGang: Bool { nodes > 1 }

    /// Checks every field; the first problem found is thrown, naming the field.
    public func validate() throws(SpecError) {
        typealias L = SpecLimits
        try StageSource.validate(stage)
        if name.count > L.maxNameLength {
            throw SpecError(field: "name", message: "longer than \(L.maxNameLength) characters")
        }
        if !name.allSatisfy(Self.isNameCharacter) {
            throw SpecError(field: "name", message: "use letters, digits, '-', '_' and '.' only")
        }
        guard !command.isEmpty, !command[0].isEmpty else {
            throw SpecError(field: "command", message: "is empty: give the program to run and its arguments")
        }
        if command.count > L.maxArguments {
            throw SpecError(field: "command", message: "more than \(L.maxArguments) arguments")
        }
        var total = 0
        for argument in command {
            if argument.utf8.contains(0) {
                throw SpecError(field: "command", message: "an argument contains a NUL byte")
            }
            if argument.utf8.count > L.maxArgumentBytes {
                throw SpecError(field: "command", message: "an argument is longer than \(L.maxArgumentBytes) bytes")
            }
            total += argument.utf8.count
        }
        if total > L.maxCommandBytes {
            throw SpecError(field: "command", message: "longer than \(L.maxCommandBytes) bytes")
        }
        try Self.validatePath(cwd)
        try validateEnvironment()
        if !Self.isSimpleName(queue) {
            throw SpecError(field: "queue", message: "must be 1-63 letters, digits, '-' or '_'")
        }
        try validateResources()
        if let gpuType, gpuType.isEmpty || gpuType.count > 64 || !gpuType.allSatisfy(Self.isNameCharacter) {
            throw SpecError(field: "gpu_type", message: "must be 1-64 letters, digits, '-', '_' or '.' (e.g. H100)")
        }
        if let gpuMemoryMiB, gpuMemoryMiB <= 0 || gpuMemoryMiB > 16 << 20 {
            throw SpecError(field: "gpu_memory", message: "must be between 1 MiB and 16 TiB per GPU (e.g. \"80G\")")
        }
        // A leading "-" would make `docker run` read the image as one of its own options (--privileged...).
        if let image,
            image.isEmpty || image.count > 512 || image.hasPrefix("-")
                || image.contains(where: { $0.isWhitespace || $0 == "\0" })
        {
            throw SpecError(field: "image", message: "must be a container image reference such as ubuntu:24.04")
        }
        if let timeLimit, timeLimit <= 0 || timeLimit > L.maxTimeLimit {
            throw SpecError(field: "time_limit", message: "must be between 1 and \(L.maxTimeLimit) seconds")
        }
        if let killGrace, killGrace < 0 || killGrace > L.maxKillGrace {
            throw SpecError(field: "kill_grace", message: "must be between 0 and \(L.maxKillGrace) seconds")
        }
        if maxRetries < 0 || maxRetries > L.maxRetries {
            throw SpecError(field: "max_retries", message: "must be between 0 and \(L.maxRetries)")
        }
        if !L.priorityRange.contains(priority) {
            throw SpecError(
                field: "priority",
                message: "must be between \(L.priorityRange.lowerBound) and \(L.priorityRange.upperBound)"
            )
        }
        if labels.count > L.maxLabels { throw SpecError(field: "labels", message: "more than \(L.maxLabels) labels") }
        for (key, value) in labels where !Self.isLabelText(key) || !Self.isLabelText(value) {
            throw SpecError(
                field: "labels",
                message: "keys and values must be 1-63 letters, digits, '-', '_', '.' or '/'"
            )
        }
        if dependsOn.count > L.maxDependencies {
            throw SpecError(field: "depends_on", message: "more than \(L.maxDependencies) dependencies")
        }
        for id in dependsOn where !JobID.isValid(id.rawValue) {
            throw SpecError(field: "depends_on", message: "'\(id.rawValue.prefix(64))' is not a job id")
        }
    }

    private func validateResources() throws(SpecError) {
        typealias L = SpecLimits
        if resources.gpus < 0 || resources.gpus > L.maxGPUs {
            throw SpecError(field: "gpus", message: "must be between 0 and \(L.maxGPUs)")
        }
        if resources.cpus < 0 || resources.cpus > L.maxCPUs {
            throw SpecError(field: "cpus", message: "must be between 0 and \(L.maxCPUs)")
        }
        if resources.memory < 0 { throw SpecError(field: "memory", message: "must not be negative") }
        if resources.memory > L.maxMemory { throw SpecError(field: "memory", message: "must be at most 1P (1 PiB)") }
        if nodes < 1 || nodes > L.maxNodes {
            throw SpecError(field: "nodes", message: "must be between 1 and \(L.maxNodes)")
        }
    }

    private func validateEnvironment() throws(SpecError) {
        typealias L = SpecLimits
        if env.count > L.maxEnvEntries {
            throw SpecError(field: "env", message: "more than \(L.maxEnvEntries) variables")
        }
        for (key, value) in env {
            guard Self.isEnvName(key) else {
                throw SpecError(field: "env", message: "'\(key.prefix(64))' is not a valid variable name")
            }
            if L.reservedEnvNames.contains(key) || L.reservedEnvPrefixes.contains(where: { key.hasPrefix($0) })
                || (isGang && L.gangEnvNames.contains(key))
            {
                throw SpecError(field: "env", message: "\(key) is set by Corral and cannot be overridden")
            }
            if value.utf8.contains(0) {
                throw SpecError(field: "env", message: "the value of \(key) contains a NUL byte")
            }
            if value.utf8.count > L.maxEnvValueBytes {
                throw SpecError(field: "env", message: "the value of \(key) is longer than \(L.maxEnvValueBytes) bytes")
            }
        }
    }

    static func validatePath(_ path: String) throws(SpecError) {
        guard path.hasPrefix("/") else {
            throw SpecError(
                field: "cwd",
                message: "must be an absolute path (starting with /), got '\(path.prefix(256))'"
            )
        }
        if path.utf8.count > 4096 { throw SpecError(field: "cwd", message: "longer than 4096 bytes") }
        if path.utf8.contains(0) { throw SpecError(field: "cwd", message: "contains a NUL byte") }
    }

    public static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".")
    }

    public static func isSimpleName(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 63 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static func isLabelText(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 63 else { return false }
        return text.allSatisfy { isNameCharacter($0) || $0 == "/" }
    }

    public static func isEnvName(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 256, first.isASCII, first.isLetter || first == "_" else {
            return false
        }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
