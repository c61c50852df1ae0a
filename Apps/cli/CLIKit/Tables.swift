import ClusterCore
import ClusterWire

/// Aligned text tables for people. `--json` prints the API's objects instead.
enum Tables {
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

    static func jobs(_ jobs: [JobView]) -> String {
        render(
            ["ID", "NAME", "USER", "QUEUE", "STATE", "GPUS", "NODE", "REASON"],
            jobs.map { job in
                [
                    job.id, job.name.isEmpty ? "-" : job.name, job.user, job.queue, job.state,
                    "\(job.gpus)",
                    job.node ?? "-", job.reason ?? job.exitCode.map { "exit \($0)" } ?? "-",
                ]
            }
        )
    }

    static func nodes(_ nodes: [NodeView]) -> String {
        render(
            ["NODE", "STATUS", "GPUS", "CPUS", "MEMORY", "LAST SEEN", "NOTE"],
            nodes.map { node in
                [
                    node.id, node.revoked == true ? "REVOKED" : node.drained ? "DRAINED" : node.status,
                    "\(node.gpusUsed)/\(node.gpus.count)", "\(node.cpusUsed)/\(node.cpus)",
                    "\(ByteSize.format(node.memoryUsed))/\(ByteSize.format(node.memory))", node.lastHeartbeat,
                    node.drainReason ?? (node.status == "LOST" ? "no heartbeat" : ""),
                ]
            }
        )
    }

    static func explain(_ explanation: ExplainResponse) -> String {
        var out = "job \(explanation.job): \(explanation.state)"
        if let reason = explanation.reason { out += " (\(reason))" }
        out += "\n"
        if let message = explanation.message, explanation.state != "QUEUED" { out += "\(message)\n" }
        if explanation.nodes.isEmpty { return out + "no nodes are registered\n" }
        return out + explanation.nodes.map { "  \($0.node): \($0.detail)" }.joined(separator: "\n") + "\n"
    }

    static func tokens(_ tokens: [TokenView]) -> String {
        render(
            ["PREFIX", "USER", "ROLE", "CREATED", "LAST USED", "EXPIRES", "STATE"],
            tokens.map {
                [
                    $0.prefix, $0.user, $0.role, $0.createdAt, $0.lastUsedAt ?? "never", $0.expiresAt ?? "never",
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
            ("id", job.id), ("name", job.name.isEmpty ? "-" : job.name), ("user", job.user), ("queue", job.queue),
            ("state", job.state + (job.reason.map { " (\($0))" } ?? "")),
            ("command", job.command.map(quote).joined(separator: " ")), ("cwd", job.cwd),
            (
                "resources",
                "\(job.gpus) GPUs, \(job.cpus) CPUs, \(job.memory > 0 ? ByteSize.format(job.memory) : "any") memory"
            ),
            ("submitted", job.submittedAt),
        ]
        if let node = job.node { lines.append(("node", node)) }
        if !job.gpuIndices.isEmpty { lines.append(("gpus", job.gpuIndices.map(String.init).joined(separator: ","))) }
        if let started = job.startedAt { lines.append(("started", started)) }
        if let ended = job.endedAt { lines.append(("ended", ended)) }
        if let code = job.exitCode { lines.append(("exit code", "\(code)")) }
        if let signal = job.signal { lines.append(("signal", signal)) }
        if let message = job.message { lines.append(("message", message)) }
        let width = lines.map(\.0.count).max() ?? 0
        var out =
            lines.map { $0.0 + ":" + String(repeating: " ", count: width - $0.0.count + 1) + $0.1 }
            .joined(separator: "\n") + "\n"
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
