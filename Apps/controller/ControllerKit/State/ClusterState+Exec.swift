import ClusterCore
import ClusterStore
import ClusterWire

/// `corral exec`: hands a command to the node of a running job with its next long poll, and records it in the
/// job's events.
extension ClusterState {
    /// The node and allocation a command for `job` goes to: its current attempt (that rank of a gang's), while
    /// it runs.
    func execTarget(_ id: JobID, rank: Int = 0) throws(ClusterError) -> (node: NodeID, allocation: AllocationID) {
        // A finished job may have left memory: it is not running (409), not unknown.
        guard let job = anyJob(id) else { throw .jobNotFound(id.rawValue) }
        guard job.state == .running, let attempt = job.liveAttempt else { throw .notRunning(id, job.state) }
        // A container job's process on the node is the docker client, in the node's own context: nothing of the
        // job's to enter (docker exec on the node does that).
        guard job.spec.image == nil else { throw .execIntoContainer(id) }
        guard let node = attempt.node(ofRank: rank) else { throw .notRunning(id, job.state) }
        return (node, AllocationID(job: id, attempt: attempt.number, rank: attempt.isGang ? rank : 0))
    }

    /// Queues the command for the node's long poll (waking it), and writes who ran what into the job's events.
    func requestExec(_ assignment: ExecAssignment, job id: JobID, node: NodeID, by user: String) throws {
        guard let job = jobs[id] else { throw ClusterError.jobNotFound(id.rawValue) }
        let shown = assignment.command.joined(separator: " ")
        walSync.willCommit()
        defer { walSync.counted() }
        try database.appendEvent(
            JobEventRecord(
                job: id,
                attempt: job.currentAttempt?.number ?? 0,
                from: job.state,
                to: job.state,
                reason: "exec by \(user) (session \(assignment.sessionId)): \(shown.prefix(200))",
                node: node,
                at: clock.now()
            )
        )
        pendingExec[node, default: []].append(assignment)
        wakeAll(node: node)
    }
}
