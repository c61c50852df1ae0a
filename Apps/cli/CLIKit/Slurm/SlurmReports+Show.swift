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

    /// One line of sinfo: a queue's nodes in one state (with `-N`, one node).
    struct SinfoRow {
        var queue: QueueView
        var state: String
        var nodes: [NodeView]
    }

    static let sinfoHeaders: [Character: String] = [
        "P": "PARTITION", "R": "PARTITION", "a": "AVAIL", "l": "TIMELIMIT", "D": "NODES", "t": "STATE", "T": "STATE",
        "N": "NODELIST", "c": "CPUS", "G": "GRES", "m": "MEMORY",
    ]
    static let defaultSinfoFormat = "%9P %.5a %.10l %.6D %.6t %N"
    static let defaultSinfoNodeFormat = "%10N %.5D %.9P %t"

    static func sinfoValue(_ letter: Character, _ row: SinfoRow) -> String {
        switch letter {
        case "P": return row.queue.name + (row.queue.name == SchedulingPolicy.defaultQueueName ? "*" : "")
        case "R": return row.queue.name
        case "a": return "up"
        case "l": return row.queue.defaultTimeLimit.map { SlurmTime.format($0, padded: true) } ?? "infinite"
        case "D": return String(row.nodes.count)
        case "t": return row.state
        case "T":
            let long = ["mix": "mixed", "alloc": "allocated", "drain": "drained", "drng": "draining"]
            return long[row.state] ?? row.state
        case "c": return String(row.nodes.map(\.cpus).min() ?? 0)
        case "G": return "gpu:\(row.nodes.map(\.gpus.count).max() ?? 0)"
        case "m": return String((row.nodes.map(\.memory).min() ?? 0) >> 20)
        default: return row.nodes.map(\.id).sorted().joined(separator: ",")
        }
    }

    /// sinfo: one line per queue and node state (the nodes whose labels match the queue's selector), or with
    /// `byNode` one per node and queue; `-o` formats as squeue's do.
    static func sinfo(
        queues: [QueueView],
        nodes: [NodeView],
        byNode: Bool,
        header: Bool,
        format: String?
    ) throws(SlurmError) -> String {
        var rows: [SinfoRow] = []
        if byNode {
            for node in nodes.sorted(by: { $0.id < $1.id }) {
                for queue in queues.sorted(by: { $0.name < $1.name }) where Self.nodes(of: queue, in: [node]).count == 1
                {
                    rows.append(SinfoRow(queue: queue, state: nodeState(node), nodes: [node]))
                }
            }
        } else {
            for queue in queues.sorted(by: { $0.name < $1.name }) {
                var byState: [String: [NodeView]] = [:]
                for node in Self.nodes(of: queue, in: nodes) { byState[nodeState(node), default: []].append(node) }
                for (state, members) in byState.sorted(by: { $0.key < $1.key }) {
                    rows.append(SinfoRow(queue: queue, state: state, nodes: members))
                }
            }
        }
        let chosen = format ?? (byNode ? defaultSinfoNodeFormat : defaultSinfoFormat)
        return try render(rows, format: chosen, headers: sinfoHeaders, header: header) { sinfoValue($0, $1) }
    }

    /// An output pattern of an sbatch job, as its job fills it in (`SbatchPrologue`), made absolute.
    static func expand(_ pattern: String, _ job: JobView) -> String {
        let id = jobID(job)
        let text = SlurmPattern.expand(
            pattern,
            [
                "j": id, "x": name(job), "A": job.array.map { SlurmJobID.number(of: $0.arrayId) } ?? id,
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
            ["JobId=\(jobID(job))", "JobName=\(name(job))"],
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
