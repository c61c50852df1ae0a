import ClusterCore
import ClusterWire
import CorralSupport

/// Aligned text tables for people. `--json` prints the API's objects instead.
enum Tables {
    /// A node's status as people read it: what keeps it from work first.
    static func status(_ node: NodeView) -> String {
        node.revoked == true
            ? "REVOKED" : node.approved == false ? "AWAITING-APPROVAL" : node.drained ? "DRAINED" : node.status
    }

    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (index, cell) in cells.enumerated() {
                if index >= widths.count {
                    out += cell + "  "  // more cells than the header: keep them apart, unaligned
                } else if index == cells.count - 1 {
                    out += cell
                } else {
                    out += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            while out.hasSuffix(" ") { out.removeLast() }
            return out
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// ID NAME USER QUEUE STATE GPUS NODE TIME REASON; TIME is the age of a waiting job and the run time of
    /// one that started.
    static func jobs(_ jobs: [JobView], now: Timestamp) -> String {
        let table = render(
            ["ID", "NAME", "USER", "QUEUE", "STATE", "GPUS", "NODE", "TIME", "REASON"],
            jobs.map { job in
                [
                    job.arraySummary.map { "\($0.arrayId)_[\($0.tasks)]" } ?? job.id, job.name.isEmpty ? "-" : job.name,
                    job.user, job.queue, job.arraySummary.map(arrayStates) ?? job.state,
                    job.nodes > 1 ? "\(job.nodes)x\(job.gpus)" : "\(job.gpus)",
                    job.arraySummary != nil
                        ? "-" : job.node.map { job.nodes > 1 ? "\($0)+\(job.nodes - 1)" : $0 } ?? "-",
                    time(job, now: now),
                    job.reason ?? job.stopping.map { "stopping: \($0)" } ?? job.idle.map(idleMarker)
                        ?? job.exitCode.map { "exit \($0)" } ?? "-",
                ]
            }
        )
        guard Terminal.colour else { return table }
        // Colour the STATE cells after alignment, so the codes do not shift the columns.
        var lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let header = lines.first, let offset = column("STATE", in: header) else { return table }
        for (index, job) in jobs.enumerated() where index + 1 < lines.count && job.arraySummary == nil {
            let line = lines[index + 1]
            guard line.count >= offset + job.state.count else { continue }
            let head = line.prefix(offset)
            let tail = line.dropFirst(offset + job.state.count)
            lines[index + 1] = head + Terminal.paint(job.state, padded: job.state) + tail
        }
        return lines.joined(separator: "\n")
    }

    /// An array's line: its tasks by state, busiest first (`3 RUNNING, 10 QUEUED, 37 SUCCEEDED`).
    static func arrayStates(_ summary: ArraySummaryView) -> String {
        let order = ["RUNNING", "STARTING", "ALLOCATED", "QUEUED", "SUCCEEDED", "FAILED", "LOST", "CANCELED"]
        return order.compactMap { state in summary.states[state].map { "\($0) \(state)" } }.joined(separator: ", ")
    }

    /// Where a header word starts, in characters.
    static func column(_ word: String, in header: String) -> Int? {
        let characters = Array(header)
        let target = Array(word)
        guard characters.count >= target.count else { return nil }
        for start in 0...(characters.count - target.count)
        where Array(characters[start..<start + target.count]) == target {
            return start
        }
        return nil
    }

    static func time(_ job: JobView, now: Timestamp) -> String {
        if let started = job.startedAt.flatMap(WireTime.parse) {
            let end = job.endedAt.flatMap(WireTime.parse) ?? now
            return duration(end - started)
        }
        guard let submitted = WireTime.parse(job.submittedAt) else { return "-" }
        return duration(now - submitted)
    }

    /// 45s, 12m, 3h05m, 2d04h.
    static func duration(_ value: Duration) -> String {
        let seconds = max(0, value.milliseconds / 1000)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86400 {
            let minutes = seconds / 60 % 60
            return "\(seconds / 3600)h\(minutes < 10 ? "0" : "")\(minutes)m"
        }
        let hours = seconds / 3600 % 24
        return "\(seconds / 86400)d\(hours < 10 ? "0" : "")\(hours)h"
    }

    static func node(_ node: NodeView) -> String {
        var lines = [
            "node:      \(node.id)", "hostname:  \(node.hostname)",
            "status:    \(Self.status(node))",
            "gpus:      \(node.gpusUsed) of \(node.gpus.count) in use",
            "cpus:      \(node.cpusUsed) of \(node.cpus) in use",
            "memory:    \(ByteSize.format(node.memoryUsed)) of \(ByteSize.format(node.memory)) in use",
            "last seen: \(node.lastHeartbeat)",
        ]
        if let version = node.agentVersion {
            lines.append("agent:     \(version)\(node.agentBuild.map { " (SHA-256 \($0.prefix(16))...)" } ?? "")")
        }
        if let free = node.diskFree { lines.append("disk free: \(ByteSize.format(free)) (job logs)") }
        if let containment = node.containment { lines.append("jobs in:   \(containment)") }
        if let cache = node.stageCache {
            lines.append(
                "stage cache: \(ByteSize.format(cache.used)) of \(ByteSize.format(cache.limit)), \(cache.entries) "
                    + "copies (\(cache.inUse) in use)"
            )
        }
        if let address = node.address { lines.append("address:   \(address) (gang jobs' MASTER_ADDR)") }
        if let reason = node.drainReason { lines.append("drained:   \(reason)") }
        if let message = node.message { lines.append("unhealthy: \(message)") }
        if !node.labels.isEmpty {
            lines.append(
                "labels:    "
                    + node.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            )
        }
        var out = lines.joined(separator: "\n") + "\n"
        if !node.gpus.isEmpty {
            out +=
                "\n"
                + render(
                    ["GPU", "NAME", "MEMORY", "USED", "UTIL", "HEALTHY", "UUID"],
                    node.gpus.map {
                        [
                            "\($0.index)", $0.name, $0.memoryMib.map { "\($0) MiB" } ?? "-",
                            $0.memoryUsedMib.map { "\($0) MiB" } ?? "-", $0.utilization.map { "\($0)%" } ?? "-",
                            $0.healthy ? "yes" : "NO", $0.uuid,
                        ]
                    }
                )
        }
        if let links = node.gpuTopology, links.count > 1 {
            out += "\ntopology (nvidia-smi topo -m):\n"
            out += render(
                [""] + links.indices.map { "GPU\($0)" },
                links.enumerated().map { ["GPU\($0.offset)"] + $0.element }
            )
        }
        return out
    }

    static func nodes(_ nodes: [NodeView]) -> String {
        render(
            ["NODE", "STATUS", "GPUS", "GPU UTIL", "CPUS", "MEMORY", "VERSION", "LAST SEEN", "NOTE"],
            nodes.map { node in
                [
                    node.id, Self.status(node),
                    "\(node.gpusUsed)/\(node.gpus.count)", gpuUtilization(node), "\(node.cpusUsed)/\(node.cpus)",
                    "\(ByteSize.format(node.memoryUsed))/\(ByteSize.format(node.memory))", node.agentVersion ?? "-",
                    node.lastHeartbeat, note(node),
                ]
            }
        )
    }

    /// Why it takes no work, or that it runs jobs without cgroups (an admin allowed that) or without limits.
    static func note(_ node: NodeView) -> String {
        let why = node.drainReason ?? (node.status == "LOST" ? "no heartbeat" : node.message ?? "")
        guard let containment = node.containment else { return why }
        let weak: String
        if containment.hasPrefix("none") {
            weak = "UNCONTAINED (" + containment + ")"
        } else if containment.contains("no memory limit") || containment.contains("no CPU limit") {
            weak = containment
        } else {
            return why
        }
        return why.isEmpty ? weak : why + "; " + weak
    }

    /// The mean utilization of the node's GPUs at its last heartbeat; "-" where nothing measures it (declared
    /// GPUs) or the node is not READY (the figure would be stale).
    static func gpuUtilization(_ node: NodeView) -> String {
        let measured = node.gpus.compactMap(\.utilization)
        guard !measured.isEmpty, node.status == "READY" else { return "-" }
        return "\(measured.reduce(0, +) / measured.count)%"
    }

    /// While it runs: CPU so far, memory now and at its peak; once ended: CPU in all and the peak.
    static func usage(_ usage: UsageReport, running: Bool) -> String {
        let tenths = Int((usage.cpuSeconds * 10).rounded())
        var parts = [
            "\(tenths / 10).\(tenths % 10) CPU-seconds",
            running
                ? "\(ByteSize.format(usage.memory)) memory (peak \(ByteSize.format(usage.peakMemory)))"
                : "peak \(ByteSize.format(usage.peakMemory)) memory",
        ]
        if let gpu = usage.gpuMemoryMib { parts.append("\(gpu) MiB GPU memory") }
        return parts.joined(separator: ", ")
    }

    static func explain(_ explanation: ExplainResponse) -> String {
        var out = "job \(explanation.job): \(explanation.state)"
        if let reason = explanation.reason { out += " (\(reason))" }
        out += "\n"
        if let message = explanation.message, explanation.state != "QUEUED" { out += "\(message)\n" }
        if let summary = explanation.summary { out += "\(summary)\n" }
        if explanation.nodes.isEmpty { return out + "no nodes are registered\n" }
        return out + explanation.nodes.map { "  \($0.node): \($0.detail)" }.joined(separator: "\n") + "\n"
    }

    static func tokens(_ tokens: [TokenView]) -> String {
        render(
            ["PREFIX", "USER", "UNIX USER", "ROLE", "CREATED", "LAST USED", "EXPIRES", "STATE"],
            tokens.map {
                [
                    $0.prefix, $0.user, $0.unixUser ?? "-", $0.role, $0.createdAt, $0.lastUsedAt ?? "never",
                    $0.expiresAt ?? "never",
                    $0.revoked ? "revoked" : "active",
                ]
            }
        )
    }

    static func queues(_ queues: [QueueView]) -> String {
        render(
            ["QUEUE", "PRIORITY", "PENDING", "RUNNING", "GPUS", "USER GPU LIMIT", "NODES"],
            queues.map { queue in
                [
                    queue.name, "\(queue.priority)", "\(queue.pending)", "\(queue.running)", "\(queue.gpusInUse)",
                    queue.maxRunningGpusPerUser.map(String.init) ?? "-",
                    queue.nodeSelector.isEmpty
                        ? "any"
                        : queue.nodeSelector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                            .joined(separator: ","),
                ]
            }
        )
    }

    static func show(_ job: JobView, _ events: [EventView]) -> String {
        var lines: [(String, String)] = [
            ("id", job.id), ("name", job.name.isEmpty ? "-" : job.name), ("user", job.user),
            ("runs as", job.unixUser.map { "Unix account \($0)" } ?? "the agent's account"), ("queue", job.queue),
            ("state", job.state + (job.reason.map { " (\($0))" } ?? "")),
        ]
        if let stopping = job.stopping {
            lines.append(("stopping", "\(stopping): it ends when its node says its processes are gone"))
        }
        if let idle = job.idle {
            lines.append(("idle", "its GPUs average \(idle.meanUtilization)% (flagged idle since \(idle.since))"))
        }
        if let hold = job.hold {
            lines.append(("held", "by \(hold.by)\(hold.admin ? " (an admin: only an admin can release it)" : "")"))
        }
        lines += [
            ("command", job.command.map(quote).joined(separator: " ")), ("cwd", job.cwd),
            (
                "resources",
                (job.nodes > 1 ? "\(job.nodes) nodes, each " : "")
                    + "\(job.gpus) GPUs, \(job.cpus) CPUs, \(job.memory > 0 ? ByteSize.format(job.memory) : "any") memory"
            ),
            ("submitted", job.submittedAt),
        ]
        if let task = job.array {
            lines.append(("array", "task \(task.index) of array \(task.arrayId) (\(task.count) tasks)"))
        }
        if let summary = job.arraySummary {
            lines.append(("array", "\(summary.arrayId): \(summary.tasks) tasks, \(arrayStates(summary))"))
        }
        if let node = job.node { lines.append((job.nodes > 1 ? "rank 0 on" : "node", node)) }
        if !job.gpuIndices.isEmpty { lines.append(("gpus", job.gpuIndices.map(String.init).joined(separator: ","))) }
        if let started = job.startedAt { lines.append(("started", started)) }
        if let ended = job.endedAt { lines.append(("ended", ended)) }
        if let code = job.exitCode { lines.append(("exit code", "\(code)")) }
        if let signal = job.signal { lines.append(("signal", signal)) }
        if let reason = job.exitReason { lines.append(("ended by", reason)) }
        if let message = job.message { lines.append(("message", message)) }
        if let usage = job.usage {
            let running = job.state == "RUNNING"
            lines.append((running ? "usage" : "used", Self.usage(usage, running: running)))
        }
        if let hours = gpuHours(job, now: SystemClock().now()) { lines.append(("gpu-hours", hours)) }
        lines += specLines(job)
        let width = lines.map(\.0.count).max() ?? 0
        var out =
            lines.map { $0.0 + ":" + String(repeating: " ", count: width - $0.0.count + 1) + $0.1 }
            .joined(separator: "\n") + "\n"
        if let ranks = job.ranks, !ranks.isEmpty {
            out += "\nranks:\n"
            out += render(
                ["RANK", "NODE", "GPUS", "STATE", "PID", "RESULT"],
                ranks.map { rank in
                    [
                        "\(rank.rank)", rank.node, rank.gpuIndices.map(String.init).joined(separator: ","), rank.state,
                        rank.pid.map(String.init) ?? "-", rank.message ?? "-",
                    ]
                }
            )
        }
        if !job.attempts.isEmpty {
            out += "\nattempts:\n"
            out += render(
                ["ATTEMPT", "NODE", "GPUS", "STATE", "STARTED", "ENDED", "RESULT"],
                job.attempts.map { attempt in
                    [
                        "\(attempt.attempt)", attempt.node, attempt.gpuIndices.map(String.init).joined(separator: ","),
                        attempt.state ?? "-", attempt.startedAt ?? "-", attempt.endedAt ?? "-", attempt.message ?? "-",
                    ]
                }
            )
        }
        if !events.isEmpty {
            out += "\nevents:\n"
            out += render(
                ["TIME", "FROM", "TO", "REASON"],
                events.map { [$0.at, $0.from ?? "-", $0.applied ? ($0.to ?? "-") : "(refused)", $0.reason] }
            )
        }
        return out
    }

    static func quote(_ argument: String) -> String {
        let safe = argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }
        return safe && !argument.isEmpty ? argument : "'" + argument.replacingQuotes() + "'"
    }
}

extension String {
    func replacingQuotes() -> String {
        var out = ""
        for character in self { out += character == "'" ? "'\\''" : String(character) }
        return out
    }
}
