import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import HTTPKit

/// The agent protocol: register, heartbeat, long-poll for work, report allocation status.
extension ClusterState {
    struct Registration: Sendable {
        let node: Node
        let token: String
        let stop: [AllocationID]
    }

    func register(_ request: RegisterRequest) throws -> Registration {
        let id = NodeID(request.nodeId)
        let now = clock.now()
        if nodes[id]?.revoked == true {
            throw APIError.forbidden(
                "node \(id) was revoked by an admin; an admin can readmit it with corral resume \(id)"
            )
        }
        let previousBoot = nodes[id]?.bootID
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
        let token = SecureRandom.token(prefix: "crn_", bytes: 24)
        try database.transaction {
            try database.saveNode(node)
        }
        // A node has one valid token at a time: registering again replaces it.
        try revokeCredentials(kind: .node, subject: id.rawValue)
        try addCredential(token: token, kind: .node, subject: id.rawValue)
        nodes[id] = node
        // Polls still waiting from the agent's previous process must not take launches meant for this one.
        pollGeneration[id, default: 0] += 1
        wakeAll(node: id)
        let rebooted = previousBoot != nil && request.bootId != nil && previousBoot != request.bootId
        try reconcileRegistration(
            node: id,
            reported: Set(request.running.compactMap { AllocationID(parsing: $0.allocationId) }),
            rebooted: rebooted,
            at: now
        )
        log.info("node \(id) registered: \(node.gpus.count) GPUs, \(node.cpus) CPUs\(rebooted ? " (rebooted)" : "")")
        requestSchedulingPass()
        return Registration(node: node, token: token, stop: unwanted(on: id, reported: request.running))
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

    /// On (re)registration the agent reports every allocation it still runs; anything else it had is gone.
    func reconcileRegistration(node id: NodeID, reported: Set<AllocationID>, rebooted: Bool, at now: Timestamp) throws {
        let gone = rebooted ? "node \(id) rebooted" : "the agent on \(id) restarted without it"
        for allocationID in liveByNode[id] ?? [] {
            guard var job = jobs[allocationID.job], job.currentAttempt?.number == allocationID.attempt else {
                if !reported.contains(allocationID) { try finishStopped(allocationID, at: now) }
                continue
            }
            let running = reported.contains(allocationID) && !rebooted
            switch job.state {
            case .allocated:
                // A launch handed to the agent's previous process but not accepted: hand it out again (the
                // agent ignores allocation ids it has already seen).
                live[allocationID]?.delivered = false
            case .starting, .running:
                if running {
                    live[allocationID]?.leaseRenewedAt = now
                } else {
                    job.attempts[job.attempts.count - 1].finalState = .lost
                    _ = try transition(&job, .nodeLost(reason: gone))
                    retryLost(allocationID, reason: "its process is gone (\(gone))", at: now)
                }
            case .lost:
                if running {
                    // Still running on a node we gave up on: stop this copy; the job is retried once it is gone.
                    live[allocationID]?.stopRequestedAt = now
                } else {
                    retryLost(allocationID, reason: "its process is gone (\(gone))", at: now)
                }
            default:
                if !reported.contains(allocationID) { try finishStopped(allocationID, at: now) }
            }
        }
    }

    /// The node an allocation was placed on, if it exists.
    func node(of id: AllocationID) -> NodeID? {
        jobs[id.job]?.attempts.first { $0.number == id.attempt }?.node
    }

    /// Allocations the agent reports that the controller does not want running there.
    func unwanted(on node: NodeID, reported: [RunningAllocation]) -> [AllocationID] {
        var stop: [AllocationID] = []
        for report in reported {
            guard let id = AllocationID(parsing: report.allocationId) else { continue }
            if let allocation = live[id], allocation.node == node, allocation.stopRequestedAt == nil { continue }
            stop.append(id)
        }
        return stop
    }

    func heartbeat(node id: NodeID, _ request: HeartbeatRequest) throws -> HeartbeatResponse {
        guard var node = nodes[id] else { throw APIError(.notFound, "unknown_node", "node \(id) is not registered") }
        let now = clock.now()
        let before = node
        node.lastHeartbeat = now
        node.status = request.healthy ? .ready : .unhealthy
        node.healthMessage = request.healthy ? nil : String((request.message ?? "unhealthy").prefix(500))
        node.diskFreeBytes = request.diskFree.map { max($0, 0) }
        if let gpus = request.gpus {
            for report in gpus {
                if let index = node.gpus.firstIndex(where: { $0.index == report.index }) {
                    node.gpus[index].healthy = report.healthy
                    node.gpus[index].utilizationPercent = report.utilization.map { min(max($0, 0), 100) }
                    node.gpus[index].memoryUsedMiB = report.memoryUsedMib.map {
                        min(max($0, 0), node.gpus[index].memoryMiB ?? 1 << 24)
                    }
                }
            }
        }
        // Written only when something durable changed (an UNHEALTHY node's every heartbeat used to rewrite it).
        if node.status != before.status || node.gpus.map(\.healthy) != before.gpus.map(\.healthy) {
            try database.saveNode(node)
            requestSchedulingPass()
        }
        nodes[id] = node
        // Reconcile with what the agent runs: renew the leases of what it lists; a LOST job it no longer runs
        // is surely gone and retried now; stopping allocations it no longer runs are gone, their resources free.
        let reported = Set(request.running.compactMap { AllocationID(parsing: $0.allocationId) })
        let grace = settings.heartbeatInterval * 2
        for allocationID in liveByNode[id] ?? [] {
            guard let allocation = live[allocationID] else { continue }
            let state = jobs[allocationID.job]?.state
            if reported.contains(allocationID) {
                live[allocationID]?.leaseRenewedAt = now
                if state == .lost { live[allocationID]?.stopRequestedAt = allocation.stopRequestedAt ?? now }
            } else if state == .lost {
                retryLost(allocationID, reason: "the agent on \(id) no longer runs it", at: now)
            } else if let stopAt = allocation.stopRequestedAt, stopAt + grace < now {
                try finishStopped(allocationID, at: now)
            }
        }
        recordUsage(request.running, on: id)
        var stop = unwanted(on: id, reported: request.running)
        for allocationID in liveByNode[id] ?? [] where live[allocationID]?.stopRequestedAt != nil {
            if !stop.contains(allocationID) { stop.append(allocationID) }
        }
        return HeartbeatResponse(
            stop: stop.map(\.description),
            heartbeatIntervalMs: Int(settings.heartbeatInterval.milliseconds)
        )
    }

    /// The latest usage samples of the node's running allocations. Memory only, like a heartbeat's other live
    /// figures: the attempt's row gets the final account when it ends.
    func recordUsage(_ reports: [RunningAllocation], on node: NodeID) {
        for report in reports {
            guard let usage = report.usage?.usage, let id = AllocationID(parsing: report.allocationId),
                live[id]?.node == node, jobs[id.job]?.currentAttempt?.number == id.attempt,
                jobs[id.job]?.currentAttempt?.endedAt == nil, let count = jobs[id.job]?.attempts.count
            else { continue }
            jobs[id.job]?.attempts[count - 1].usage = usage
        }
    }

    /// An allocation asked to stop is gone: record its end and free its resources.
    func finishStopped(_ id: AllocationID, at now: Timestamp) throws {
        if var job = jobs[id.job], job.currentAttempt?.number == id.attempt, job.currentAttempt?.endedAt == nil {
            job.attempts[job.attempts.count - 1].endedAt = now
            try commit(job, events: [])
        }
        release(id)
    }

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
            var stop: [String] = []
            for allocationID in (liveByNode[id] ?? []).sorted() {
                guard let allocation = live[allocationID] else { continue }
                if allocation.stopRequestedAt != nil {
                    if !allocation.stopDelivered {
                        stop.append(allocationID.description)
                        live[allocationID]?.stopDelivered = true
                    }
                } else if let job = jobs[allocationID.job], job.state == .allocated,
                    !allocation.delivered || allocation.leaseRenewedAt + Self.redeliverAfter < now
                {
                    launch.append(launchSpec(job, allocation))
                    live[allocationID]?.delivered = true
                    live[allocationID]?.leaseRenewedAt = now
                }
            }
            if !launch.isEmpty || !stop.isEmpty || now >= deadline {
                return AssignmentsResponse(launch: launch, stop: stop)
            }
            await waitForWork(node: id, until: deadline)
        }
    }

    static let redeliverAfter: Duration = .seconds(3)

    func launchSpec(_ job: Job, _ allocation: LiveAllocation) -> LaunchSpec {
        LaunchSpec(
            allocationId: allocation.id.description,
            jobId: job.id.rawValue,
            attempt: allocation.id.attempt,
            name: job.spec.name,
            user: job.user,
            command: job.spec.command,
            cwd: job.spec.cwd,
            env: job.spec.env,
            gpuIndices: allocation.gpuIndices,
            cpus: job.spec.resources.cpus,
            memory: job.spec.resources.memory,
            image: job.spec.image,
            timeLimit: job.spec.timeLimit,
            killGrace: job.spec.killGrace
        )
    }

    /// An agent's report on one allocation. Idempotent: a repeat changes nothing and says so.
    func allocationStatus(
        _ id: AllocationID,
        from node: NodeID,
        _ report: AllocationStatusRequest
    ) throws
        -> AllocationStatusResponse
    {
        guard var job = jobs[id.job], let attempt = job.attempts.first(where: { $0.number == id.attempt }) else {
            throw APIError(.notFound, "unknown_allocation", "allocation \(id) does not exist")
        }
        guard attempt.node == node else {
            throw APIError(.forbidden, "forbidden", "allocation \(id) does not belong to node \(node)")
        }
        var report = report
        // As with a heartbeat's message: a report's words go into the job, its events and the database.
        report.message = report.message.map { String($0.prefix(1000)) }
        let isCurrent = job.currentAttempt?.number == id.attempt
        let now = clock.now()
        let index = job.attempts.firstIndex(where: { $0.number == id.attempt })!
        var applied = false
        switch report.phase {
        case .starting:
            if isCurrent && job.state == .allocated { applied = try transition(&job, .accepted, node: node) != nil }
        case .running:
            if isCurrent && job.state == .starting {
                job.attempts[index].pid = report.pid
                job.attempts[index].startedAt = now
                applied = try transition(&job, .started(pid: report.pid ?? 0), node: node) != nil
            }
        case .exited, .launchFailed:
            guard job.attempts[index].endedAt == nil else { break }  // a repeat
            let exit = JobExit(
                code: report.exitCode,
                signal: report.signal,
                message: report.message,
                timedOut: report.timedOut ?? false
            )
            job.attempts[index].exit = exit
            job.attempts[index].endedAt = now
            if let final = report.usage?.usage {
                job.attempts[index].usage = job.attempts[index].usage.map { $0.ended(with: final) } ?? final
            }
            if isCurrent && report.fenced == true && (job.state == .starting || job.state == .running) {
                // The agent stopped it because it could not reach us: a node fault, not the job's.
                job.attempts[index].finalState = .lost
                let reason = "fenced on \(node): \(report.message ?? "its agent could not renew the lease")"
                applied = try transition(&job, .nodeLost(reason: reason), node: node) != nil
            } else if isCurrent && job.state.isPlaced {
                let event: JobEvent =
                    report.phase == .launchFailed
                    ? .launchFailed(message: report.message ?? "unknown error") : .exited(exit)
                job.attempts[index].finalState = exit.isSuccess && report.phase == .exited ? .succeeded : .failed
                applied = try transition(&job, event, node: node) != nil
                if applied && job.state == .failed { try retryIfAllowed(&job) }
            } else {
                // The job moved on (canceled, requeued): record how this attempt ended, refuse the transition.
                try commit(
                    job,
                    events: [
                        JobEventRecord(
                            job: job.id,
                            attempt: id.attempt,
                            from: job.state,
                            to: nil,
                            reason: "refused: late report '\(JobStateMachine.describe(exit))' for a \(job.state) job",
                            node: node,
                            at: now,
                            applied: false
                        )
                    ]
                )
            }
            if job.state == .lost && isCurrent {
                retryLost(id, reason: "the agent confirmed its process ended", at: now)
            }
            release(id)
        }
        if report.phase == .starting || report.phase == .running { live[id]?.leaseRenewedAt = now }
        let current = jobs[id.job] ?? job
        let stop = !isCurrent || current.state == .canceled || live[id]?.stopRequestedAt != nil
        return AllocationStatusResponse(jobState: current.state.rawValue, applied: applied, stop: stop)
    }

    /// A batch of reports from one node, applied in order in one hop to the actor; each answered as the
    /// single-report route would, so one refused report does not stop the others. After an internal failure
    /// (5xx) nothing more is applied: the rest answer 503, and the agent sends them again, still in order.
    func allocationStatuses(_ reports: [AllocationStatusReport], from node: NodeID) -> [StatusBatchResult] {
        var failed = false
        return reports.map { report in
            let name = String(report.allocationId.prefix(64))
            if failed {
                return StatusBatchResult(
                    allocationId: name,
                    status: 503,
                    error: "not applied: an earlier report failed"
                )
            }
            guard let id = AllocationID(parsing: report.allocationId) else {
                return StatusBatchResult(allocationId: name, status: 400, error: "not an allocation id")
            }
            do {
                return StatusBatchResult(
                    allocationId: name,
                    status: 200,
                    response: try allocationStatus(id, from: node, report.status)
                )
            } catch let error as APIError {
                failed = error.status.code >= 500
                return StatusBatchResult(allocationId: name, status: error.status.code, error: error.message)
            } catch {
                failed = true
                log.error("status report for \(id) from \(node) failed: \(error)")
                return StatusBatchResult(allocationId: name, status: 500, error: "\(error)")
            }
        }
    }

    /// The job's own failure: retry while its `max_retries` budget lasts.
    func retryIfAllowed(_ job: inout Job) throws {
        guard job.retriesUsed < job.spec.maxRetries else { return }
        job.retriesUsed += 1
        _ = try transition(&job, .retry(reason: "retry \(job.retriesUsed) of \(job.spec.maxRetries)"))
        requestSchedulingPass()
    }
}
