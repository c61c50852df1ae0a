public import ClusterCore

/// `POST /v1/jobs`. Unknown fields are refused so that a typo is an error, not a silent default.
/// `memory` takes bytes as an integer or a size string ("32G").
public struct SubmitJobRequest: Codable, Hashable, Sendable {
    public var name: String?
    public var command: [String]
    public var cwd: String?
    public var env: [String: String]?
    public var queue: String?
    public var gpus: Int?
    public var gpuType: String?
    /// Minimum memory per GPU: bytes, or a size such as "80G".
    public var gpuMemory: ByteCount?
    public var cpus: Int?
    public var memory: ByteCount?
    public var image: String?
    public var timeLimit: Int?
    /// Seconds between SIGTERM and SIGKILL when the job is stopped.
    public var killGrace: Int?
    /// `USR1@120`: a signal `seconds` before the time limit and before a preemption's SIGTERM.
    public var checkpointSignal: String?
    public var maxRetries: Int?
    public var priority: Int?
    public var labels: [String: String]?
    public var dependsOn: [String]?
    /// Nodes of a gang job (1: a one-node job); with more than one, resources are given per node.
    public var nodes: Int?
    public var gpusPerNode: Int?
    public var cpusPerNode: Int?
    public var memoryPerNode: ByteCount?
    /// A job array: `0-99`, `1,5,7`, `0-20:5`, with `%N` to run at most N tasks at once.
    public var array: String?
    /// Submit the job held (`corral submit --hold`, sbatch's `-H`): it waits, reason Held, until released.
    public var hold: Bool?
    /// An http(s) URL the controller posts the job's start, end and preemption to.
    public var notify: String?
    /// Copied to the node before the job starts (`StageRequest`).
    public var stage: [StageRequest]?

    public init(command: [String]) { self.command = command }

    public init(spec: JobSpec) {
        self.init(command: spec.command)
        name = spec.name.isEmpty ? nil : spec.name
        cwd = spec.cwd
        env = spec.env.isEmpty ? nil : spec.env
        queue = spec.queue
        gpus = spec.resources.gpus
        cpus = spec.resources.cpus
        memory = ByteCount(spec.resources.memory)
        gpuType = spec.gpuType
        gpuMemory = spec.gpuMemoryMiB.map { ByteCount(Int64($0) << 20) }
        image = spec.image
        timeLimit = spec.timeLimit
        killGrace = spec.killGrace
        checkpointSignal = spec.checkpointSignal?.description
        maxRetries = spec.maxRetries
        priority = spec.priority
        labels = spec.labels.isEmpty ? nil : spec.labels
        dependsOn = spec.dependsOn.isEmpty ? nil : spec.dependsOn.map(\.rawValue)
        stage =
            spec.stage.isEmpty
            ? nil : spec.stage.map { StageRequest(source: $0.source, name: $0.name, checksum: $0.checksum) }
        if spec.isGang {
            nodes = spec.nodes
            (gpusPerNode, cpusPerNode, memoryPerNode) = (gpus, cpus, memory)
            (gpus, cpus, memory) = (nil, nil, nil)
        }
    }

    public static let fieldNames: Set<String> = [
        "name", "command", "cwd", "env", "queue", "gpus", "gpuType", "gpuMemory", "cpus", "memory", "image",
        "timeLimit", "killGrace", "checkpointSignal",
        "maxRetries", "priority", "labels", "dependsOn", "nodes", "gpusPerNode", "cpusPerNode", "memoryPerNode",
        "array", "hold", "notify", "stage",
    ]

    private enum CodingKeys: String, CodingKey {
        case name, command, cwd, env, queue, gpus, gpuType, gpuMemory, cpus, memory, image, timeLimit, maxRetries
        case priority, killGrace, checkpointSignal
        case labels, dependsOn, nodes, gpusPerNode, cpusPerNode, memoryPerNode, array, hold, notify, stage
    }

    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(allowed: Self.fieldNames)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        command = try c.decode([String].self, forKey: .command)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        cwd = try c.decodeIfPresent(String.self, forKey: .cwd)
        env = try c.decodeIfPresent([String: String].self, forKey: .env)
        queue = try c.decodeIfPresent(String.self, forKey: .queue)
        gpus = try c.decodeWholeNumber(forKey: .gpus)
        gpuType = try c.decodeIfPresent(String.self, forKey: .gpuType)
        // As vendors name GPU memory: a string "80G" is 80 x 10^9 bytes (ByteSize.parseGPUMemory); bytes as given.
        if let text = try? c.decodeIfPresent(String.self, forKey: .gpuMemory) {
            guard let bytes = ByteSize.parseGPUMemory(text) else {
                throw WireDecodingError(field: "gpu_memory", message: "expected bytes or a size such as \"80G\"")
            }
            gpuMemory = ByteCount(bytes)
        } else {
            gpuMemory = try c.decodeIfPresent(ByteCount.self, forKey: .gpuMemory)
        }
        cpus = try c.decodeWholeNumber(forKey: .cpus)
        memory = try c.decodeIfPresent(ByteCount.self, forKey: .memory)
        image = try c.decodeIfPresent(String.self, forKey: .image)
        timeLimit = try c.decodeWholeNumber(forKey: .timeLimit)
        killGrace = try c.decodeWholeNumber(forKey: .killGrace)
        checkpointSignal = try c.decodeIfPresent(String.self, forKey: .checkpointSignal)
        maxRetries = try c.decodeWholeNumber(forKey: .maxRetries)
        priority = try c.decodeWholeNumber(forKey: .priority)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels)
        dependsOn = try c.decodeIfPresent([String].self, forKey: .dependsOn)
        nodes = try c.decodeWholeNumber(forKey: .nodes)
        gpusPerNode = try c.decodeWholeNumber(forKey: .gpusPerNode)
        cpusPerNode = try c.decodeWholeNumber(forKey: .cpusPerNode)
        memoryPerNode = try c.decodeIfPresent(ByteCount.self, forKey: .memoryPerNode)
        array = try c.decodeIfPresent(String.self, forKey: .array)
        hold = try c.decodeIfPresent(Bool.self, forKey: .hold)
        notify = try c.decodeIfPresent(String.self, forKey: .notify)
        stage = try c.decodeIfPresent([StageRequest].self, forKey: .stage)
    }

    /// The spec this request asks for, with the defaults of DESIGN.md filled in, validated.
    public func toSpec() throws(SpecError) -> JobSpec {
        let resources = try perNode()
        var spec = JobSpec(
            name: name ?? "",
            command: command,
            cwd: cwd ?? "/",
            env: env ?? [:],
            queue: queue ?? "default",
            resources: resources,
            nodes: nodes ?? 1,
            gpuType: gpuType,
            // Rounded up to whole MiB without adding first (bytes near Int64.max would overflow).
            gpuMemoryMiB: gpuMemory.map { Int(clamping: $0.bytes >> 20 + ($0.bytes & ((1 << 20) - 1) == 0 ? 0 : 1)) },
            image: image,
            timeLimit: timeLimit,
            killGrace: killGrace,
            maxRetries: maxRetries ?? 0,
            priority: priority ?? 0,
            labels: labels ?? [:],
            dependsOn: (dependsOn ?? []).map(JobID.init)
        )
        if let checkpointSignal {
            guard let signal = JobSignal.parse(checkpointSignal) else {
                throw SpecError(
                    field: "checkpoint_signal",
                    message: "must be SIGNAL[@SECONDS] such as USR1@120 (HUP, INT, QUIT, USR1, USR2, ALRM, TERM, "
                        + "CONT, URG, WINCH; 1-\(JobSignal.maxSeconds) s)"
                )
            }
            if let timeLimit, signal.seconds >= timeLimit {
                throw SpecError(
                    field: "checkpoint_signal",
                    message: "its \(signal.seconds) s lead must be shorter than the time limit (\(timeLimit) s)"
                )
            }
            spec.checkpointSignal = signal
        }
        if let notify { spec.notify = try NotifyURL.parse(notify) }
        spec.stage = (stage ?? []).map {
            StageSource(
                source: $0.source,
                name: $0.name ?? StageSource.defaultName(for: $0.source),
                checksum: $0.checksum
            )
        }
        try spec.validate()
        return spec
    }

    /// What each node gets. A gang gives it per node only (`gpus` alone would leave open whether it is the
    /// total or each node's share); a one-node job may use either spelling, not both with different values.
    func perNode() throws(SpecError) -> Resources {
        if (nodes ?? 1) > 1 {
            for (field, value) in [("gpus", gpus), ("cpus", cpus)] where value != nil {
                throw SpecError(field: field, message: "with nodes > 1, give \(field)_per_node instead")
            }
            if memory != nil {
                throw SpecError(field: "memory", message: "with nodes > 1, give memory_per_node instead")
            }
        }
        func one<T: Equatable>(_ field: String, _ plain: T?, _ perNode: T?) throws(SpecError) -> T? {
            if let plain, let perNode, plain != perNode {
                throw SpecError(field: "\(field)_per_node", message: "differs from \(field): give one of them")
            }
            return perNode ?? plain
        }
        return Resources(
            gpus: try one("gpus", gpus, gpusPerNode) ?? 0,
            cpus: try one("cpus", cpus, cpusPerNode) ?? 1,
            memory: try one("memory", memory?.bytes, memoryPerNode?.bytes) ?? 0
        )
    }
}

extension KeyedDecodingContainer {
    /// An optional integer field. JSONDecoder reports `1.5` or `1e30` for an Int as corrupt JSON with no field;
    /// this names the field instead.
    func decodeWholeNumber(forKey key: Key) throws -> Int? {
        do {
            return try decodeIfPresent(Int.self, forKey: key)
        } catch DecodingError.typeMismatch(let type, let context) {
            throw DecodingError.typeMismatch(type, context)  // a string or an object: already names the field
        } catch {
            throw WireDecodingError(field: snakeCase(key.stringValue), message: "must be a whole number in range")
        }
    }
}

/// A byte count that decodes from an integer (bytes) or a size string ("32G", "512M").
public struct ByteCount: Codable, Hashable, Sendable {
    public let bytes: Int64
    public init(_ bytes: Int64) { self.bytes = bytes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bytes = try? container.decode(Int64.self) {
            self.bytes = bytes
        } else if let text = try? container.decode(String.self), let bytes = ByteSize.parse(text) {
            self.bytes = bytes
        } else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "expected bytes or a size such as \"32G\"")
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(bytes)
    }
}

/// A job as the API returns it. Top-level `node`, `gpu_indices`, `exit_code` describe the current attempt.
public struct JobView: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var user: String
    /// The Unix account its processes run as on the nodes.
    public var unixUser: String?
    public var queue: String
    public var state: String
    public var reason: String?
    public var message: String?
    public var node: String?
    public var gpuIndices: [Int]
    public var exitCode: Int32?
    public var signal: String?
    /// OUT_OF_MEMORY or TIMEOUT, where that is how the current attempt ended.
    public var exitReason: String?
    /// What the current attempt's processes use (running) or used (ended), as its node measured it.
    public var usage: UsageReport?
    public var attempt: Int
    public var submittedAt: String
    public var startedAt: String?
    public var endedAt: String?
    public var command: [String]
    public var cwd: String
    public var env: [String: String]
    public var gpus: Int
    public var cpus: Int
    public var memory: Int64
    public var gpuType: String?
    /// Minimum memory per GPU, bytes.
    public var gpuMemory: Int64?
    public var image: String?
    public var timeLimit: Int?
    public var killGrace: Int?
    public var checkpointSignal: String?
    public var maxRetries: Int
    public var priority: Int
    public var labels: [String: String]
    public var dependsOn: [String]
    public var attempts: [AttemptView]
    /// Set while the job's processes are being stopped ("canceled by bob", "time limit reached (TIMEOUT)"): the
    /// job keeps its state until its node says they are gone, then ends as this says.
    public var stopping: String?
    /// Nodes it runs on at once (a gang when more than 1); `gpus`, `cpus` and `memory` are per node.
    public var nodes: Int
    /// The current attempt's ranks, for a gang.
    public var ranks: [RankView]?
    /// Set for a task of a job array.
    public var array: ArrayTaskView?
    /// Set on a listing's line that stands for a whole array (`GET /v1/jobs?collapse=arrays`).
    public var arraySummary: ArraySummaryView?
    /// How often it was preempted and put back in the queue (absent when never).
    public var preemptions: Int?
    /// Set while the job is held (`corral hold`): who held it.
    public var hold: HoldView?
    /// Set while the job runs with its GPUs flagged idle.
    public var idle: IdleView?
    /// Where its notifications go, its path elided (`https://hooks.example.com/…`).
    public var notify: String?
    /// What it stages to its node before it starts (`--stage`).
    public var stage: [StageSource]?

    public init(_ job: Job) {
        let current = job.currentAttempt
        id = job.id.rawValue
        name = job.spec.name
        user = job.user
        unixUser = job.unixUser
        queue = job.spec.queue
        state = job.state.rawValue
        reason =
            job.state == .queued
            ? job.pendingReason?.rawValue
            : job.state == .starting && job.message?.hasPrefix("staging: ") == true ? "Staging" : nil
        preemptions = job.preemptions > 0 ? job.preemptions : nil
        hold = job.state == .queued ? job.hold.map(HoldView.init) : nil
        idle = job.state == .running ? job.idle.map(IdleView.init) : nil
        notify = job.spec.notify?.redacted
        stage = job.spec.stage.isEmpty ? nil : job.spec.stage
        message = job.message
        node = current?.node.rawValue
        gpuIndices = current?.gpuIndices ?? []
        exitCode = current?.exit?.code
        signal = current?.exit?.signal.map(SignalName.name)
        exitReason = current?.exit?.reason
        usage = current?.usage.map(UsageReport.init)
        attempt = current?.number ?? 0
        submittedAt = WireTime.format(job.submittedAt)
        startedAt = current?.startedAt.map(WireTime.format)
        endedAt = job.state.isFinished ? WireTime.format(current?.endedAt ?? job.updatedAt) : nil
        command = job.spec.command
        cwd = job.spec.cwd
        env = job.spec.env
        gpus = job.spec.resources.gpus
        cpus = job.spec.resources.cpus
        memory = job.spec.resources.memory
        gpuType = job.spec.gpuType
        gpuMemory = job.spec.gpuMemoryMiB.map { Int64($0) << 20 }
        image = job.spec.image
        timeLimit = job.spec.timeLimit
        killGrace = job.spec.killGrace
        checkpointSignal = job.spec.checkpointSignal?.description
        maxRetries = job.spec.maxRetries
        priority = job.spec.priority
        labels = job.spec.labels
        dependsOn = job.spec.dependsOn.map(\.rawValue)
        stopping = job.liveAttempt == nil ? nil : job.stopRequest?.description
        nodes = job.spec.nodes
        ranks = current.flatMap { $0.isGang ? $0.ranks.map(RankView.init) : nil }
        array = job.array.map(ArrayTaskView.init)
        attempts = job.attempts.map { attempt in
            var view = AttemptView(
                attempt: attempt.number,
                node: attempt.node.rawValue,
                gpuIndices: attempt.gpuIndices,
                state: attempt.preemptedBy != nil ? "PREEMPTED" : attempt.finalState?.rawValue,
                allocatedAt: WireTime.format(attempt.allocatedAt),
                startedAt: attempt.startedAt.map(WireTime.format),
                endedAt: attempt.endedAt.map(WireTime.format),
                pid: attempt.pid,
                exitCode: attempt.exit?.code,
                signal: attempt.exit?.signal.map(SignalName.name),
                exitReason: attempt.exit?.reason,
                message: attempt.exit.map(JobStateMachine.describe),
                usage: attempt.usage.map(UsageReport.init),
                ranks: attempt.isGang ? attempt.ranks.map(RankView.init) : nil,
                failedRank: attempt.failedRank
            )
            view.preemptedBy = attempt.preemptedBy?.rawValue
            return view
        }
    }
}

/// `GET /v1/jobs`: newest first; `next_cursor` is set when more remain.
public struct JobListResponse: Codable, Hashable, Sendable {
    public var jobs: [JobView]
    public var nextCursor: String?
    public init(jobs: [JobView], nextCursor: String? = nil) {
        self.jobs = jobs
        self.nextCursor = nextCursor
    }
}
