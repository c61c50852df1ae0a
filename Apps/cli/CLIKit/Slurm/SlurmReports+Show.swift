import ClusterCore
import ClusterWire

/// sinfo's partition and node views, and scontrol's `show job`.
extension SlurmReports {
    /// Slurm's word for a node's state: idle, mix, alloc, drain (drng while jobs still run), down.
    static func nodeState(_ node: NodeView) -> String {
        guard node.status == "READY", node.approved != false, node.revoked != true else { return "down" }
        let used = node.gpusUsed > 0 || node.cpusUsed > 0
        if node.drained { return used ? "drng" : "drain" }
        if !used { return "idle" }
        let full = node.gpus.isEmpty ? node.cpusUsed >= node.cpus : node.gpusUsed >= node.gpus.count
        return full ? "alloc" : "mix"
    }

    /// The nodes a queue may use: those carrying every label of its node selector.
    static func nodes(of queue: QueueView, in nodes: [NodeView]) -> [NodeView] {
        nodes.filter { node in queue.nodeSelector.allSatisfy { node.labels[$0.key] == $0.value } }
    }

    static func sinfo(queues: [QueueView], nodes: [NodeView], byNode: Bool, header: Bool) -> String {
        func name(_ queue: QueueView) -> String {
            queue.name + (queue.name == SchedulingPolicy.defaultQueueName ? "*" : "")
        }
        var lines: [String] = []
        if byNode {
            if header { lines.append("NODELIST   NODES PARTITION STATE") }
            for node in nodes.sorted(by: { $0.id < $1.id }) {
                for queue in queues where Self.nodes(of: queue, in: [node]).count == 1 {
                    lines.append(
                        "\(pad(node.id, width: 10, right: false)) \(pad("1", width: 5, right: true)) "
                            + "\(pad(name(queue), width: 9, right: true)) \(nodeState(node))"
                    )
                }
            }
        } else {
            if header { lines.append("PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST") }
            for queue in queues.sorted(by: { $0.name < $1.name }) {
                let limit = queue.defaultTimeLimit.map { SlurmTime.format($0, padded: true) } ?? "infinite"
                var byState: [String: [String]] = [:]
                for node in Self.nodes(of: queue, in: nodes) { byState[nodeState(node), default: []].append(node.id) }
                for (state, ids) in byState.sorted(by: { $0.key < $1.key }) {
                    lines.append(
                        "\(pad(name(queue), width: 9, right: false)) \(pad("up", width: 5, right: true)) "
                            + "\(pad(limit, width: 10, right: true)) \(pad(String(ids.count), width: 6, right: true)) "
                            + "\(pad(state, width: 6, right: true)) \(ids.sorted().joined(separator: ","))"
                    )
                }
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// An output pattern of an sbatch job, as its job fills it in (`SbatchPrologue`), made absolute.
    static func expand(_ pattern: String, _ job: JobView) -> String {
        let id = jobID(job)
        let text = SlurmPattern.expand(
            pattern,
            [
                "j": id, "x": job.name, "A": job.array.map { SlurmJobID.number(of: $0.arrayId) } ?? id,
                "a": job.array.map { String($0.index) } ?? "4294967294", "u": job.unixUser ?? job.user,
                "N": job.node ?? "", "n": "0", "t": "0", "s": "0",
            ]
        )
        return text.hasPrefix("/") ? text : job.cwd + "/" + text
    }

    /// `scontrol show job`: the fields tools parse (JobState, ExitCode, NodeList, StdOut, StdErr, RunTime...).
    static func scontrol(_ job: JobView, now: Timestamp) -> String {
        let patterns = SbatchPrologue.patterns(of: job.command)
        let fields: [[String]] = [
            ["JobId=\(jobID(job))", "JobName=\(job.name)"],
            ["UserId=\(job.unixUser ?? job.user)", "Account="],
            ["Priority=\(job.priority)", "Nice=0"],
            [
                "JobState=\(state(job))", "Reason=\(job.reason ?? "None")",
                "Dependency=\(job.dependsOn.isEmpty ? "(null)" : job.dependsOn.map { "afterok:" + SlurmJobID.number(of: $0) }.joined(separator: ","))",
            ],
            [
                "Requeue=1", "Restarts=\(max(0, job.attempt - 1))", "BatchFlag=\(patterns == nil ? 0 : 1)",
                "ExitCode=\(exitCode(job))",
            ],
            ["RunTime=\(SlurmTime.format(elapsed(job, now: now), padded: true))", "TimeLimit=\(timeLimit(job))"],
            [
                "SubmitTime=\(time(job.submittedAt))", "StartTime=\(time(job.startedAt))",
                "EndTime=\(time(job.endedAt))",
            ],
            ["Partition=\(job.queue)"],
            ["NodeList=\(nodeList(job).isEmpty ? "(null)" : nodeList(job))"],
            ["NumNodes=\(job.nodes)", "NumCPUs=\(job.cpus * job.nodes)", "NumTasks=\(job.env["SLURM_NTASKS"] ?? "1")"],
            [
                "TRES=cpu=\(job.cpus * job.nodes),mem=\(job.memory >> 20)M,node=\(job.nodes),gres/gpu=\(job.gpus * job.nodes)"
            ],
            ["WorkDir=\(job.cwd)"],
            ["StdErr=\(patterns.map { expand($0.error, job) } ?? "")"],
            ["StdIn=/dev/null"],
            ["StdOut=\(patterns.map { expand($0.output, job) } ?? "")"],
        ]
        return fields.enumerated().map { ($0.offset == 0 ? "" : "   ") + $0.element.joined(separator: " ") }
            .joined(separator: "\n") + "\n\n"
    }
}
