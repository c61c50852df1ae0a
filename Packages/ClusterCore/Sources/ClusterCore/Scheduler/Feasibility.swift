/// Labels the agent sets itself.
public enum NodeLabels {
    /// Present (the value names the runtime, `docker`) on nodes whose agent runs container jobs.
    public static let containers = "corral.containers"
    /// Present on nodes whose agent has a stage cache (`--stage`); the value is its stage roots, comma-separated.
    public static let stage = "corral.stage"
}

/// What a job needs from a node, independent of what runs there: the static half of fit.
struct Requirement: Hashable, Sendable {
    /// The job runs in a container image: only nodes with a container runtime can run it.
    var needsContainers: Bool
    /// Lowercased, matched within GPU names.
    var gpuType: String?
    /// As the user wrote it, for explanations.
    var gpuTypeAsWritten: String?
    /// Minimum memory per GPU, MiB.
    var gpuMemoryMiB: Int?
    /// The queue's node selector.
    var selector: [String: String]
    var labels: [String: String]
    /// The job's stage sources: only a node with a stage cache whose roots hold them all can run it.
    var stageSources: [String]

    init(spec: JobSpec, queue: QueueConfig) {
        needsContainers = spec.image != nil
        stageSources = spec.stage.map(\.source).sorted()
        gpuType = spec.gpuType?.lowercased()
        gpuTypeAsWritten = spec.gpuType
        gpuMemoryMiB = spec.gpuMemoryMiB
        selector = queue.nodeSelector
        labels = spec.labels
    }
}

/// Why a node could never run a job, even with nothing else on it.
enum StaticProblem: Hashable, Sendable {
    case lost
    case unhealthy
    case drained(reason: String?)
    case awaitingApproval
    case noContainerRuntime
    case noStageCache
    case notBelowStageRoot(source: String, roots: String)
    case label(key: String, has: String?, wanted: String, fromQueue: String?)
    case gpuType(has: [String], wanted: String)
    case gpuMemory(largestMiB: Int?, wantedMiB: Int)
    case unhealthyGPUs(indices: [Int], usable: Int, wanted: Int)
    case tooFewGPUs(has: Int, wanted: Int, type: String?)
    case tooFewCPUs(has: Int, wanted: Int)
    case tooLittleMemory(has: Int64, wanted: Int64)

    var text: String {
        switch self {
        case .lost: return "lost"
        case .unhealthy: return "unhealthy"
        case .drained(let reason): return reason.map { "drained (\($0))" } ?? "drained"
        case .awaitingApproval: return "awaiting an admin's approval (corral nodes approve)"
        case .noContainerRuntime: return "runs no container jobs (no [containers] docker in its agent.toml)"
        case .noStageCache: return "stages nothing (no [stage] with roots in its agent.toml)"
        case .notBelowStageRoot(let source, let roots): return "stages only below \(roots), not \(source)"
        case .label(let key, let has, let wanted, let queue):
            let what = has.map { "label \(key)=\($0)" } ?? "no label \(key)"
            return "\(what), wanted \(key)=\(wanted)" + (queue.map { " (queue \($0))" } ?? "")
        case .gpuType(let has, let wanted):
            return has.isEmpty
                ? "no GPUs, wanted gpu_type \(wanted)" : "gpu_type \(has.joined(separator: ", ")), wanted \(wanted)"
        case .gpuMemory(let largest, let wanted):
            let has = largest.map { "GPUs of \(ByteSize.format(Int64($0) << 20))" } ?? "GPUs of unknown memory"
            return "\(has), wanted \(ByteSize.format(Int64(wanted) << 20)) per GPU"
        case .unhealthyGPUs(let indices, let usable, let wanted):
            let list = indices.map(String.init).joined(separator: ", ")
            return "GPU\(indices.count == 1 ? "" : "s") \(list) unhealthy: \(usable) usable, wanted \(wanted)"
        case .tooFewGPUs(let has, let wanted, let type):
            return "has \(has) \(type.map { "\($0) " } ?? "")GPU\(has == 1 ? "" : "s"), wanted \(wanted)"
        case .tooFewCPUs(let has, let wanted): return "has \(has) CPUs, wanted \(wanted)"
        case .tooLittleMemory(let has, let wanted):
            return "has \(ByteSize.format(has)) memory, wanted \(ByteSize.format(wanted))"
        }
    }
}

/// Static feasibility: node status, drain, labels, GPU type and health, and capacity when empty.
enum Feasibility {
    /// Whether the node could take new work at all (ready, approved and not drained).
    static func statusProblem(_ node: Node) -> StaticProblem? {
        if !node.approved { return .awaitingApproval }
        switch node.status {
        case .lost: return .lost
        case .unhealthy: return .unhealthy
        case .ready: return node.drained ? .drained(reason: node.drainReason) : nil
        }
    }

    /// The first label the node lacks: the queue's selector first, then the job's own labels.
    static func labelProblem(_ requirement: Requirement, node: Node, queueName: String) -> StaticProblem? {
        if requirement.needsContainers && node.labels[NodeLabels.containers] == nil { return .noContainerRuntime }
        if !requirement.stageSources.isEmpty {
            guard let value = node.labels[NodeLabels.stage], !value.isEmpty else { return .noStageCache }
            let roots = value.split(separator: ",").map(String.init)
            for source in requirement.stageSources
            where !roots.contains(where: { source == $0 || source.hasPrefix($0 + "/") }) {
                return .notBelowStageRoot(source: source, roots: value)
            }
        }
        for key in requirement.selector.keys.sorted() where node.labels[key] != requirement.selector[key] {
            return .label(key: key, has: node.labels[key], wanted: requirement.selector[key]!, fromQueue: queueName)
        }
        for key in requirement.labels.keys.sorted() where node.labels[key] != requirement.labels[key] {
            return .label(key: key, has: node.labels[key], wanted: requirement.labels[key]!, fromQueue: nil)
        }
        return nil
    }

    /// The first reason the node could never run the job, or nil when it could once free.
    static func problem(
        _ requirement: Requirement,
        resources: Resources,
        queueName: String,
        view: NodeView
    ) -> StaticProblem? {
        if let problem = statusProblem(view.node) { return problem }
        if let problem = labelProblem(requirement, node: view.node, queueName: queueName) { return problem }
        if let problem = capacityProblem(requirement, resources: resources, view: view) { return problem }
        return nil
    }

    static func capacityProblem(_ requirement: Requirement, resources: Resources, view: NodeView) -> StaticProblem? {
        let matching = view.matching(type: requirement.gpuType, minMemoryMiB: requirement.gpuMemoryMiB)
        let usable = matching.intersection(view.healthy)
        if resources.gpus > usable.count {
            // Memory is the reason only when too few GPUs have enough of it (not when enough do but some of
            // them are unhealthy); the largest is taken among GPUs of the wanted type.
            let ofType = view.matching(type: requirement.gpuType)
            if let wantedMemory = requirement.gpuMemoryMiB, resources.gpus > 0, matching.count < resources.gpus,
                ofType.count >= resources.gpus
            {
                let largest = ofType.positions.compactMap { view.gpus[$0].memoryMiB }.max()
                return .gpuMemory(largestMiB: largest, wantedMiB: wantedMemory)
            }
            if let wanted = requirement.gpuTypeAsWritten, matching.isEmpty, resources.gpus > 0 {
                var names: [String] = []
                for gpu in view.gpus where !names.contains(gpu.name) { names.append(gpu.name) }
                return .gpuType(has: names, wanted: wanted)
            }
            if resources.gpus <= matching.count {
                let broken = view.indices(of: matching.subtracting(view.healthy))
                return .unhealthyGPUs(indices: broken, usable: usable.count, wanted: resources.gpus)
            }
            return .tooFewGPUs(has: matching.count, wanted: resources.gpus, type: requirement.gpuTypeAsWritten)
        }
        if resources.cpus > view.node.cpus { return .tooFewCPUs(has: view.node.cpus, wanted: resources.cpus) }
        if resources.memory > view.node.memory {
            return .tooLittleMemory(has: view.node.memory, wanted: resources.memory)
        }
        return nil
    }
}
