/// What a pass builds from the nodes alone, kept across passes while the nodes' schedulable fields do not
/// change (issue 16): the node views (GPU masks, lowercased names) and, per job class, the nodes that could ever
/// run it with their usable GPUs (`StaticFit`). Building them was 65 % of a pass over 1,000 nodes
/// (docs/PERFORMANCE.md); with them a pass costs the free state and the jobs. A pass given prepared nodes plans
/// exactly what a pass without them plans (`PreparedNodesTests`, on random clusters and job streams).
///
/// A value: `Scheduler.plan(_:policy:prepared:)` takes it inout and hands it back with the static fits of the
/// classes it met added. The owner builds a new one when a node's status, drain, approval, labels, GPUs, CPUs,
/// memory or topology changes (the controller: whenever it stores a node), and keeps one policy with it.
public struct PreparedNodes: Sendable {
    let views: [NodeView]
    let names: NameCache
    /// Each view's position, by node id.
    let ordinalOf: [NodeID: Int]
    var fits: [Planner.ClassKey: StaticFit] = [:]
    /// What live allocations hold, when the owner keeps it here (`trackHeld`, HeldLedger.swift).
    var held: HeldLedger?

    public init(_ nodes: [Node]) {
        var names = NameCache()
        views = Planner.views(of: nodes, names: &names)
        self.names = names
        ordinalOf = Planner.ordinals(views)
    }

    /// How many job classes' static fits it holds.
    public var classes: Int { fits.count }
}

/// The part of a class's fit index that depends on the nodes alone: which nodes could run the class, their
/// usable GPUs (healthy, of the wanted type and memory), CPUs, memory, and the distinct hardware shapes.
struct StaticFit: Sendable {
    var eligible: [Bool]
    var usable: [GPUMask]
    var nodeCPUs: [Int]
    var nodeMemory: [Int64]
    var hardware: [Resources]
    var maxUsable: Int

    init(requirement: Requirement, queueName: String, views: [NodeView], names: inout NameCache) {
        usable = Array(repeating: GPUMask(), count: views.count)
        eligible = Array(repeating: false, count: views.count)
        nodeCPUs = views.map(\.node.cpus)
        nodeMemory = views.map(\.node.memory)
        var hardware = Set<Resources>()
        var maxUsable = 0
        for (ordinal, view) in views.enumerated() {
            guard Feasibility.statusProblem(view.node) == nil,
                Feasibility.labelProblem(requirement, node: view.node, queueName: queueName) == nil
            else { continue }
            eligible[ordinal] = true
            usable[ordinal] = view.matching(
                type: requirement.gpuType,
                minMemoryMiB: requirement.gpuMemoryMiB,
                names: &names
            ).intersection(view.healthy)
            maxUsable = max(maxUsable, usable[ordinal].count)
            hardware.insert(Resources(gpus: usable[ordinal].count, cpus: view.node.cpus, memory: view.node.memory))
        }
        self.hardware = hardware.sorted { ($0.gpus, $0.cpus, $0.memory) < ($1.gpus, $1.cpus, $1.memory) }
        self.maxUsable = maxUsable
    }
}
