import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport

/// The agent protocol: register and heartbeat. What they mean for the node's allocations is
/// `NodeLiveness`'s decision; this applies it.
extension ClusterState {
    struct Registration: Sendable {
        let node: Node
        let stop: [AllocationID]
    }

    /// `awaitingApproval` applies to a node id not seen before (approval on); a known node keeps its approval.
    func register(
        _ request: RegisterRequest,
        from peer: String = "",
        awaitingApproval: Bool = false
    ) throws -> Registration {
        let id = NodeID(request.nodeId)
        let now = clock.now()
        agentReports["register", default: 0] += 1
        if nodes[id]?.revoked == true { throw ClusterError.nodeRevoked(id) }
        let previousBoot = nodes[id]?.bootID
        let isNew = nodes[id] == nil
        var node =
            nodes[id]
            ?? Node(
                id: id,
                hostname: request.hostname,
                gpus: [],
                cpus: request.cpus,
                memory: request.memory,
                registeredAt: now,
                lastHeartbeat: now
            )
        node.hostname = request.hostname
        node.gpus = request.gpus.map {
            var gpu = GPU(index: $0.index, uuid: $0.uuid, name: $0.name, memoryMiB: $0.memoryMib, healthy: $0.healthy)
            gpu.utilizationPercent = $0.utilization.map { min(max($0, 0), 100) }
            gpu.memoryUsedMiB = $0.memoryUsedMib.map { max($0, 0) }
            return gpu
        }
        node.gpuTopology = Self.validTopology(request.gpuTopology, gpus: node.gpus.map(\.index))
        node.cpus = request.cpus
        node.memory = request.memory
        node.labels = request.labels
        node.status = .ready
        node.bootID = request.bootId
        node.registeredAt = now
        node.lastHeartbeat = now
        node.agentLease = .agentLease(reported: Self.lease(request.allocationLeaseMs), told: settings.allocationLease)
        node.containment = request.containment.map { String($0.prefix(200)) }
        node.agentVersion = String(request.agentVersion.prefix(64))
        node.agentBuild = request.agentBuild
        node.address = Self.nodeAddress(reported: request.address, peer: peer)
        if isNew { node.approved = !awaitingApproval }
        let rebooted = NodeLiveness.rebooted(previous: previousBoot, now: request.bootId)
        let reported = request.running.compactMap { AllocationID(parsing: $0.allocationId) }
        var changes = ChangeSet()
        changes.nodes[id] = node
        let actions = NodeLiveness.registration(
            node: id,
            reported: Set(reported),
            rebooted: rebooted,
            held: allocations(on: id),
            view: livenessView(now: now)
        )
        stage(actions, in: &changes)
        try commit(changes)
        // Polls still waiting from the agent's previous process must not take launches meant for this one.
        pollGeneration[id, default: 0] += 1
        wakeAll(node: id)
        let notes =
            (rebooted ? " (rebooted)" : "") + (node.approved ? "" : "; awaiting approval (corral nodes approve)")
        log.info("node \(id) registered: \(node.gpus.count) GPUs, \(node.cpus) CPUs\(notes)")
        requestSchedulingPass()
        return Registration(
            node: nodes[id] ?? node,
            stop: NodeLiveness.stopList(
                node: id,
                reported: reported,
                held: allocations(on: id),
                allocations: allocations
            )
        )
    }

    /// The address a node is reached at: the one its agent names when it is a plausible host name or IP,
    /// else the IP its registration came from.
    static func nodeAddress(reported: String?, peer: String) -> String? {
        if let reported, NodeAddress.isValid(reported) { return reported }
        var host = Substring(peer)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return host.isEmpty ? nil : String(host)
    }

    /// A lease an agent says it holds, when it is a plausible one.
    static func lease(_ milliseconds: Int?) -> Duration? {
        guard let milliseconds, milliseconds > 0, milliseconds <= 86_400_000 else { return nil }
        return .milliseconds(Int64(milliseconds))
    }

    /// A topology is kept only when it is a square matrix of short codes with `X` on the diagonal over GPUs
    /// indexed 0..<n (placement reads it by GPU index); anything else is dropped (placement then keeps to
    /// adjacent indices) rather than trusted.
    static func validTopology(_ links: [[String]]?, gpus indices: [Int]) -> [[String]]? {
        let count = indices.count
        guard let links, count > 0, indices == Array(0..<count), links.count == count else { return nil }
        for (row, cells) in links.enumerated() {
            guard cells.count == count, cells[row] == "X",
                cells.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 8 && $0.allSatisfy { $0.isLetter || $0.isNumber } })
            else { return nil }
        }
        return links
    }

    func heartbeat(node id: NodeID, _ request: HeartbeatRequest) throws -> HeartbeatResponse {
        guard var node = nodes[id] else { throw ClusterError.nodeNotRegistered(id) }
        agentReports["heartbeat", default: 0] += 1
        let now = clock.now()
        let before = node
        node.lastHeartbeat = now
        node.status = request.healthy ? .ready : .unhealthy
        node.healthMessage = request.healthy ? nil : String((request.message ?? "unhealthy").prefix(500))
        node.diskFreeBytes = request.diskFree.map { max($0, 0) }
        stageCaches[id] = request.stageCache.map {
            StageCacheReport(
                used: max($0.used, 0),
                limit: max($0.limit, 0),
                entries: max($0.entries, 0),
                inUse: max($0.inUse, 0)
            )
        }
        for report in request.gpus ?? [] {
            guard let index = node.gpus.firstIndex(where: { $0.index == report.index }) else { continue }
            node.gpus[index].healthy = report.healthy
            node.gpus[index].utilizationPercent = report.utilization.map { min(max($0, 0), 100) }
            node.gpus[index].memoryUsedMiB = report.memoryUsedMib.map {
                min(max($0, 0), node.gpus[index].memoryMiB ?? 1 << 24)
            }
        }
        node.agentLease = .agentLease(reported: Self.lease(request.allocationLeaseMs), told: settings.allocationLease)
        var changes = ChangeSet()
        // Written only when something durable changed: a heartbeat is otherwise memory only.
        let schedulable = node.status != before.status || node.gpus.map(\.healthy) != before.gpus.map(\.healthy)
        if schedulable || node.agentLease != before.agentLease { changes.nodes[id] = node }
        let reported = request.running.compactMap { AllocationID(parsing: $0.allocationId) }
        let actions = NodeLiveness.heartbeat(
            node: id,
            reported: Set(reported),
            held: allocations(on: id),
            view: livenessView(now: now)
        )
        stage(actions, in: &changes)
        recordUtilization(of: node, at: now)
        for running in request.running {
            guard let usage = running.usage?.usage, let allocation = AllocationID(parsing: running.allocationId),
                allocations[allocation]?.node == id
            else { continue }
            stage(
                .sampled(attempt: allocation.attempt, usage, rank: allocation.rank),
                job: allocation.job,
                in: &changes
            )
        }
        try commit(changes)
        nodes[id] = node
        if schedulable { requestSchedulingPass() }
        // After the samples are in memory: the idle look reads (and flags) the jobs as they now are.
        var idle = ChangeSet()
        checkIdle(on: id, now: now, in: &idle)
        try commit(idle)
        let stop = NodeLiveness.stopList(
            node: id,
            reported: reported,
            held: allocations(on: id),
            allocations: allocations
        )
        var response = HeartbeatResponse(
            stop: stop.map(\.description),
            heartbeatIntervalMs: Int(settings.heartbeatInterval.milliseconds),
            allocationLeaseMs: Int(settings.allocationLease.milliseconds),
            longPollSeconds: settings.longPollSeconds
        )
        response.preempt = preempted(stop)
        return response
    }

    /// Of the allocations to stop, those whose job is being preempted or requeued (nil when none): their agent
    /// sends the job's checkpoint signal before the SIGTERM, as the job will run again.
    func preempted(_ stop: [AllocationID]) -> [String]? {
        let preempted = stop.filter { id in jobs[id.job].map(JobLifecycle.returnsToQueue) ?? false }
        return preempted.isEmpty ? nil : preempted.map(\.description)
    }

    /// The node an allocation was placed on, if it exists.
    func node(of id: AllocationID) -> NodeID? {
        anyJob(id.job)?.attempts.first { $0.number == id.attempt }?.node(ofRank: id.rank)
    }
}
