import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport

/// Work for agents (the long poll) and their reports on allocations, which become lifecycle events.
extension ClusterState {
    /// The long poll: returns at once when there is work for the node, else when `wait` runs out.
    ///
    /// A launch handed out but not accepted within `redeliverAfter` is handed out again (the agent ignores ids
    /// it has seen), so an answer lost with a dropped connection costs seconds, not a launch lease. A poll from
    /// before the node's last registration (an agent process that died mid-poll) takes nothing.
    func assignments(node id: NodeID, wait: Duration) async -> AssignmentsResponse {
        let deadline = clock.now() + wait
        let generation = pollGeneration[id, default: 0]
        while true {
            guard pollGeneration[id, default: 0] == generation else { return AssignmentsResponse(launch: [], stop: []) }
            let now = clock.now()
            var launch: [LaunchSpec] = []
            var stop: [AllocationID] = []
            for allocationID in (allocationsByNode[id] ?? []).sorted() {
                guard let allocation = allocations[allocationID] else { continue }
                if allocation.isStopping {
                    if !allocation.stopDelivered {
                        stop.append(allocationID)
                        allocations[allocationID]?.stopDelivered = true
                    }
                } else if let job = jobs[allocationID.job], job.state == .allocated,
                    let attempt = job.liveAttempt, attempt.number == allocationID.attempt,
                    !attempt.ranks.contains(where: { $0.rank == allocationID.rank && $0.accepted }),
                    !allocation.delivered || allocation.leaseRenewedAt + Self.redeliverAfter < now
                {
                    launch.append(Self.launchSpec(job, allocation, accounts: settings.accounts, nodes: nodes))
                    allocations[allocationID]?.delivered = true
                    allocations[allocationID]?.leaseRenewedAt = now
                }
            }
            let exec = pendingExec.removeValue(forKey: id) ?? []
            if !launch.isEmpty || !stop.isEmpty || !exec.isEmpty || now >= deadline {
                var response = AssignmentsResponse(
                    launch: launch,
                    stop: stop.map(\.description),
                    exec: exec.isEmpty ? nil : exec
                )
                response.preempt = preempted(stop)
                return response
            }
            await waitForWork(node: id, until: deadline)
        }
    }

    static let redeliverAfter: Duration = .seconds(3)

    /// What the agent is told to run. A job stored before accounts were mapped gets its account from the
    /// policy now (an account the policy refuses, such as root for a user not allowed it, is sent as none, and a
    /// root agent then refuses the launch).
    static func launchSpec(
        _ job: Job,
        _ allocation: Allocation,
        accounts: AccountPolicy,
        nodes: [NodeID: Node] = [:]
    ) -> LaunchSpec {
        let attempt = job.attempts.first { $0.number == allocation.id.attempt }
        let gangNodes = attempt.flatMap { $0.isGang ? $0.ranks.map { address(of: $0.node, nodes) } : nil }
        var env = job.spec.env
        if let attempt, let gangNodes {
            env.merge(GangEnvironment.variables(attempt, rank: allocation.id.rank, addresses: gangNodes)) { $1 }
        }
        if let task = job.array { env.merge(GangEnvironment.variables(task)) { $1 } }
        var launch = LaunchSpec(
            allocationId: allocation.id.description,
            jobId: job.id.rawValue,
            attempt: allocation.id.attempt,
            name: job.spec.name,
            user: job.user,
            command: job.spec.command,
            cwd: job.spec.cwd,
            env: env,
            gpuIndices: allocation.gpuIndices,
            cpus: job.spec.resources.cpus,
            memory: job.spec.resources.memory,
            image: job.spec.image,
            timeLimit: job.spec.timeLimit,
            killGrace: job.spec.killGrace,
            unixUser: job.unixUser ?? (try? accounts.account(for: job.user, tokenAccount: nil)),
            rank: gangNodes == nil ? nil : allocation.id.rank,
            gangNodes: gangNodes
        )
        launch.checkpointSignal = job.spec.checkpointSignal?.description
        launch.stage = job.spec.stage.isEmpty ? nil : job.spec.stage
        return launch
    }

    /// Where other nodes reach a node: the address it registered with, else its hostname.
    static func address(of id: NodeID, _ nodes: [NodeID: Node]) -> String {
        guard let node = nodes[id] else { return id.rawValue }
        return node.address ?? (node.hostname.isEmpty ? id.rawValue : node.hostname)
    }

    /// An agent's report on one allocation. Idempotent: a repeat changes nothing and says so.
    func allocationStatus(
        _ id: AllocationID,
        from node: NodeID,
        _ report: AllocationStatusRequest
    ) throws -> AllocationStatusResponse {
        agentReports["status", default: 0] += 1
        var changes = ChangeSet()
        let outcome = try stage(report, for: id, from: node, in: &changes)
        try commit(changes)
        return response(id, outcome)
    }

    /// Why one report of a batch was not applied.
    enum ReportFailure: Error, Sendable {
        /// Not an allocation id.
        case malformed(String)
        /// Refused for good (unknown allocation, another node's): sending it again cannot help.
        case refused(ClusterError)
        /// Storing the batch failed: nothing of it was applied, send it again.
        case notStored
    }

    /// A batch of reports from one node, staged in order and stored in one transaction; each is answered as the
    /// single-report route would, so one refused report does not stop the others. When storing fails nothing is
    /// applied: every report is `notStored`, and the agent sends them again, still in order.
    func allocationStatuses(
        _ reports: [AllocationStatusReport],
        from node: NodeID
    ) -> [Result<AllocationStatusResponse, ReportFailure>] {
        agentReports["status", default: 0] += reports.count
        var changes = ChangeSet()
        var staged: [Result<(AllocationID, LifecycleOutcome), ReportFailure>] = []
        for report in reports {
            guard let id = AllocationID(parsing: report.allocationId) else {
                staged.append(.failure(.malformed("not an allocation id")))
                continue
            }
            do {
                staged.append(.success((id, try stage(report.status, for: id, from: node, in: &changes))))
            } catch {
                staged.append(.failure(.refused(error)))
            }
        }
        do {
            try commit(changes)
        } catch {
            log.error("\(reports.count) status report(s) from \(node) could not be stored: \(error)")
            return reports.map { _ in .failure(.notStored) }
        }
        return staged.map { entry in entry.map { response($0.0, $0.1) } }
    }

    /// Checks the report's allocation belongs to the reporting node and stages it as a lifecycle event.
    private func stage(
        _ report: AllocationStatusRequest,
        for id: AllocationID,
        from node: NodeID,
        in changes: inout ChangeSet
    ) throws(ClusterError) -> LifecycleOutcome {
        guard let job = job(id.job, in: changes), let attempt = job.attempts.first(where: { $0.number == id.attempt }),
            let rankNode = attempt.node(ofRank: id.rank)
        else { throw .allocationNotFound(id.description) }
        guard rankNode == node else { throw .allocationOfAnotherNode(id, node) }
        // As with a heartbeat's message: a report's words go into the job, its events and the database.
        let message = report.message.map { String($0.prefix(1000)) }
        let exit = JobExit(
            code: report.exitCode,
            signal: report.signal,
            message: message,
            timedOut: report.timedOut ?? false,
            outOfMemory: report.outOfMemory ?? false
        )
        let event: LifecycleEvent
        switch report.phase {
        case .starting: event = .accepted(attempt: id.attempt, rank: id.rank)
        case .staging: event = .staging(attempt: id.attempt, progress: message ?? "", rank: id.rank)
        case .running: event = .started(attempt: id.attempt, pid: report.pid ?? 0, rank: id.rank)
        case .launchFailed:
            let end = AttemptEnd(
                report.nodeFault == true ? .nodeFault : .launchFailed,
                exit: exit,
                usage: report.usage?.usage
            )
            event = .ended(attempt: id.attempt, end, rank: id.rank)
        case .exited:
            let kind: AttemptEnd.Kind = report.fenced == true ? .fenced : .exited
            event = .ended(attempt: id.attempt, AttemptEnd(kind, exit: exit, usage: report.usage?.usage), rank: id.rank)
        }
        guard let outcome = stage(event, job: id.job, in: &changes) else { throw .allocationNotFound(id.description) }
        return outcome
    }

    /// What the agent is told: the job's state now, whether its report moved it, and whether to stop the
    /// allocation (the job left this attempt, or asked for its processes to stop).
    private func response(_ id: AllocationID, _ outcome: LifecycleOutcome) -> AllocationStatusResponse {
        let job = jobs[id.job] ?? outcome.job
        let isLive =
            job.liveAttempt?.number == id.attempt
            && job.liveAttempt?.ranks.first(where: { $0.rank == id.rank })?.isLive != false
        let stop = !isLive || job.stopRequest != nil || allocations[id]?.isStopping == true || job.state == .canceled
        return AllocationStatusResponse(jobState: job.state.rawValue, applied: outcome.transitioned, stop: stop)
    }
}
