import CorralSupport
import FoundationEssentials
import Glibc

/// The table `just bench` prints and the JSON file it writes, from the figures' JSON lines.
public enum Report {
    /// The target for each figure (issue 8's, and issue 16's where it set a new one), shown next to it.
    static let targets: [String: String] = [
        "scheduling_pass": "20 ms",
        "scheduling_pass_few_pending": "0.5 ms (issue 16)",
        "scheduling_pass_gangs": "20 ms (issue 14)",
        "array_submit_10000": "< 1 s (issue 14)",
        "submit_http_wrk": "10,000/s, flat to 100,000 queued (issue 16)",
        "submit_http": "10,000/s (issue 16, measured with wrk: submit_http_wrk)",
        "submit_http_postgres": "(next to submit_http: the same on PostgreSQL, issue 19)",
        "submit_cli": ">= 300-400/s (Slurm)",
        "jobs_executed": "1,000/s (issue 16)",
        "spawn_floor": "(reference: the least a job costs here)",
        "latency": "p50 10 ms, p90 20 ms",
        "heartbeats": "10,000 nodes, < 1 core",
        "fleet_jobs_1000_nodes": ">= 1,000 jobs/s (issue 16)",
        "fleet_jobs_10000_nodes": ">= 500 jobs/s, < 1 core (issue 16)",
        "controller_rss_1000_jobs": "30 MB",
        "controller_rss_fleet": "250 MB after 1,000,000 jobs (issue 16)",
        "agent_rss_idle": "12 MB (issue 16)",
        "ls_10000_jobs": "100 ms",
        "help": "no slower than squeue (issue 16)",
    ]

    struct Document: Codable, Sendable {
        var date: String
        var mode: String
        var machine: [String: String]
        var figures: [Figure]
    }

    public static func figures(fromLines text: String) throws -> [Figure] {
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            try decoder.decode(Figure.self, from: Data($0.utf8))
        }
    }

    /// Writes the JSON document to `output` and returns the table.
    public static func write(_ figures: [Figure], date: String, mode: String, to output: String) throws -> String {
        let machine = machineDescription()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(Document(date: date, mode: mode, machine: machine, figures: figures))
        try Files.writeAtomically(output, String(decoding: data, as: UTF8.self) + "\n", mode: 0o644)
        let header =
            "corral bench (\(mode)), \(date): \(machine["cpu"] ?? "?"), \(machine["cores"] ?? "?") cores, "
            + "\(machine["memory_gib"] ?? "?") GiB\n"
        return header + table(figures)
    }

    public static func table(_ figures: [Figure]) -> String {
        var rows = [["figure", "median", "min", "max", "runs", "unit", "target", "notes"]]
        for figure in figures {
            let extra = figure.extra.sorted { $0.key < $1.key }.map { "\($0.key)=\(format($0.value))" }
            rows.append([
                figure.name, format(figure.median), format(figure.min), format(figure.max), "\(figure.runs)",
                figure.unit, targets[figure.name] ?? "", extra.joined(separator: " "),
            ])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = Swift.max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return String(rounded(value, abs(value) >= 100 ? 1 : 2))
    }

    static func machineDescription() -> [String: String] {
        var machine: [String: String] = ["cores": String(sysconf(Int32(_SC_NPROCESSORS_ONLN)))]
        if let cpuinfo = try? Files.read("/proc/cpuinfo", limit: 1 << 20),
            let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        {
            machine["cpu"] = String(line[line.index(after: colon)...]).trimmingWhitespace()
        }
        if let meminfo = try? Files.read("/proc/meminfo", limit: 1 << 16),
            let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
            let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
        {
            machine["memory_gib"] = String(rounded(kib / 1024 / 1024, 1))
        }
        return machine
    }
}
