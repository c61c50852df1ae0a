/// Why one node can or cannot run one job, as one line: `node-3: drained`, `node-5: 2 of 4 GPUs free`,
/// `node-7: gpu_type NVIDIA A100-SXM4-40GB, wanted h100`, `node-1: fits`.
public struct NodeExplanation: Hashable, Sendable, CustomStringConvertible {
    public enum Verdict: String, Hashable, Sendable {
        /// It would fit now (with what is held now; other pending jobs may take it first).
        case fits
        /// It would fit were the node empty: the job waits for resources here.
        case busy
        /// It could never run the job: not ready, drained, wrong labels or GPU type, too small.
        case never
    }

    public let node: NodeID
    public let verdict: Verdict
    /// The reason without the node, e.g. `drained` or `2 of 4 GPUs free`.
    public let detail: String

    public init(node: NodeID, verdict: Verdict, detail: String) {
        self.node = node
        self.verdict = verdict
        self.detail = detail
    }

    public var description: String { "\(node): \(detail)" }
}

extension Scheduler {
    /// One line per node, by node id, saying whether the job fits there now and if not why. Uses the same
    /// rules as `plan`: a job is NoFeasibleNode exactly when every line is `never`.
    public static func explain(job: Job, snapshot: ClusterSnapshot, policy: SchedulingPolicy) -> [NodeExplanation] {
        let queue = policy.queue(named: job.spec.queue)
        let requirement = Requirement(spec: job.spec, queue: queue)
        let request = job.spec.resources
        var heldByNode: [NodeID: [HeldResources]] = [:]
        for held in snapshot.held { heldByNode[held.node, default: []].append(held) }
        var names = NameCache()
        return Planner.views(of: snapshot.nodes, names: &names).map { view in
            if let problem = Feasibility.problem(requirement, resources: request, queueName: queue.name, view: view) {
                return NodeExplanation(node: view.id, verdict: .never, detail: problem.text)
            }
            var taken = GPUMask()
            var cpus = view.node.cpus
            var memory = view.node.memory
            for held in heldByNode[view.id] ?? [] {
                taken = taken.union(view.mask(ofIndices: held.gpuIndices))
                cpus -= held.resources.cpus
                memory -= held.resources.memory
            }
            let usable = view.usable(type: requirement.gpuType, minMemoryMiB: requirement.gpuMemoryMiB)
            let freeGPUs = usable.subtracting(taken).count
            let kind = job.spec.gpuType.map { "\($0) " } ?? ""
            let detail: String
            if freeGPUs < request.gpus {
                detail = "\(freeGPUs) of \(usable.count) \(kind)GPUs free, wanted \(request.gpus)"
            } else if cpus < request.cpus {
                detail = "\(max(cpus, 0)) of \(view.node.cpus) CPUs free, wanted \(request.cpus)"
            } else if memory < request.memory {
                let freeText = ByteSize.format(max(memory, 0))
                detail =
                    "\(freeText) of \(ByteSize.format(view.node.memory)) memory free, wanted \(ByteSize.format(request.memory))"
            } else {
                return NodeExplanation(node: view.id, verdict: .fits, detail: "fits")
            }
            return NodeExplanation(node: view.id, verdict: .busy, detail: detail)
        }
    }
}

extension Scheduler {
    /// For a gang, one line over the per-node ones: how many nodes could take a rank now and ever, against how
    /// many it needs, and, where its queue prefers a topology label, how the fitting nodes group by it.
    public static func gangSummary(
        job: Job,
        lines: [NodeExplanation],
        snapshot: ClusterSnapshot,
        policy: SchedulingPolicy
    ) -> String? {
        guard job.spec.isGang else { return nil }
        let ranks = job.spec.nodes
        let fitting = lines.filter { $0.verdict == .fits }
        let possible = lines.filter { $0.verdict != .never }.count
        let kind = job.spec.gpuType.map { "\($0) " } ?? ""
        var text =
            "gang of \(ranks) ranks, \(job.spec.resources.gpus) \(kind)GPUs each: \(fitting.count) node"
            + "\(fitting.count == 1 ? "" : "s") could take a rank now, \(possible) could ever"
        if possible < ranks {
            text += "; it needs \(ranks) nodes and the cluster has \(possible) that could run a rank"
        } else if fitting.count < ranks {
            text += "; it starts when \(ranks) are free at once (it holds nothing meanwhile)"
        }
        if let label = policy.queue(named: job.spec.queue).topologyLabel {
            let labels = Dictionary(snapshot.nodes.map { ($0.id, $0.labels[label]) }, uniquingKeysWith: { a, _ in a })
            var groups: [String: Int] = [:]
            for line in fitting { groups[labels[line.node].flatMap { $0 } ?? "(none)", default: 0] += 1 }
            let listed = groups.sorted { $0.key < $1.key }.map { "\(label)=\($0.key): \($0.value)" }
            text +=
                "; queue \(job.spec.queue) prefers nodes sharing \(label)"
                + (listed.isEmpty ? "" : " (fitting now: \(listed.joined(separator: ", ")))")
        }
        return text
    }
}
