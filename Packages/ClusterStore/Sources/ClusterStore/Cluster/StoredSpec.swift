import ClusterCore
import FoundationEssentials

/// The JSON shape of a spec and of label maps inside their columns. Kept here, not in ClusterCore, because the
/// domain knows no encodings; keys are stable because old rows must stay readable.
struct StoredSpec: Codable {
    var name: String
    var command: [String]
    var cwd: String
    var env: [String: String]
    var queue: String
    var gpus: Int
    var cpus: Int
    var memory: Int64
    /// Absent in rows from before gang jobs: one node.
    var nodes: Int?
    var gpuType: String?
    var gpuMemoryMiB: Int?
    var image: String?
    var timeLimit: Int?
    var killGrace: Int?
    /// `USR1@120`; absent in rows from before checkpoint signals.
    var checkpointSignal: String?
    var maxRetries: Int
    var priority: Int
    var labels: [String: String]
    var dependsOn: [String]
    /// `--notify`; absent in rows from before notifications.
    var notify: String?
    /// `--stage`; absent in rows from before stage-in, and when there is none.
    var stage: [StageSource]?

    init(_ spec: JobSpec) {
        name = spec.name
        command = spec.command
        cwd = spec.cwd
        env = spec.env
        queue = spec.queue
        gpus = spec.resources.gpus
        cpus = spec.resources.cpus
        memory = spec.resources.memory
        nodes = spec.nodes == 1 ? nil : spec.nodes
        gpuType = spec.gpuType
        gpuMemoryMiB = spec.gpuMemoryMiB
        image = spec.image
        timeLimit = spec.timeLimit
        killGrace = spec.killGrace
        checkpointSignal = spec.checkpointSignal?.description
        maxRetries = spec.maxRetries
        priority = spec.priority
        labels = spec.labels
        dependsOn = spec.dependsOn.map(\.rawValue)
        notify = spec.notify?.description
        stage = spec.stage.isEmpty ? nil : spec.stage
    }

    var spec: JobSpec {
        var spec = JobSpec(
            name: name,
            command: command,
            cwd: cwd,
            env: env,
            queue: queue,
            resources: Resources(gpus: gpus, cpus: cpus, memory: memory),
            nodes: nodes ?? 1,
            gpuType: gpuType,
            gpuMemoryMiB: gpuMemoryMiB,
            image: image,
            timeLimit: timeLimit,
            killGrace: killGrace,
            maxRetries: maxRetries,
            priority: priority,
            labels: labels,
            dependsOn: dependsOn.map(JobID.init)
        )
        spec.checkpointSignal = checkpointSignal.flatMap(JobSignal.parse)
        spec.notify = notify.flatMap { try? NotifyURL.parse($0) }
        spec.stage = stage ?? []
        return spec
    }

    static func encode<T: Encodable>(_ value: T) throws(StoreError) -> String {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw StoreError.encoding("cannot encode \(T.self): \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws(StoreError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.encoding("cannot decode \(T.self) from a stored row: \(error)")
        }
    }
}

/// `ResourceUsage` in the attempts table's `usage` column.
struct StoredUsage: Codable {
    var cpuSeconds: Double
    var memory: Int64
    var peakMemory: Int64
    var gpuMemoryMiB: Int?

    init(_ usage: ResourceUsage) {
        cpuSeconds = usage.cpuSeconds
        memory = usage.memoryBytes
        peakMemory = usage.peakMemoryBytes
        gpuMemoryMiB = usage.gpuMemoryMiB
    }

    var usage: ResourceUsage {
        ResourceUsage(
            cpuSeconds: cpuSeconds,
            memoryBytes: memory,
            peakMemoryBytes: peakMemory,
            gpuMemoryMiB: gpuMemoryMiB
        )
    }
}

/// `StopRequest` in the jobs table's `stop_request` column.
struct StoredStopRequest: Codable {
    /// "cancel", "time_limit", "preempt" (`by`: the preempting job) or "requeue" (`by`: who; `admin`: the
    /// requester was an admin).
    var reason: String
    var by: String?
    var at: Int64
    var admin: Bool?

    init(_ request: StopRequest) {
        switch request.reason {
        case .cancel(let user):
            reason = "cancel"
            by = user
        case .timeLimit:
            reason = "time_limit"
            by = nil
        case .preempt(let job):
            reason = "preempt"
            by = job.rawValue
        case .requeue(let requester):
            reason = "requeue"
            by = requester.name
            admin = requester.isAdmin
        }
        at = request.at.milliseconds
    }

    var request: StopRequest? {
        let at = Timestamp(milliseconds: at)
        switch reason {
        case "cancel": return StopRequest(.cancel(by: by ?? "?"), at: at)
        case "time_limit": return StopRequest(.timeLimit, at: at)
        case "preempt": return by.map { StopRequest(.preempt(by: JobID($0)), at: at) }
        case "requeue":
            let requester = Requester(by ?? "?", isAdmin: admin ?? false)
            return StopRequest(.requeue(requester), at: at)
        default: return nil
        }
    }
}

/// `JobHold` in the jobs table's `hold` column.
struct StoredHold: Codable {
    var by: String
    var admin: Bool
    var at: Int64

    init(_ hold: JobHold) {
        by = hold.by
        admin = hold.byAdmin
        at = hold.at.milliseconds
    }

    var hold: JobHold { JobHold(by: by, byAdmin: admin, at: Timestamp(milliseconds: at)) }
}
