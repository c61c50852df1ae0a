import ClusterWire
import CorralClient
import CorralSupport

/// `corral usage [--since 7d] [--by user|queue|node] [--user U]`: jobs, GPU-hours, CPU-hours, mean wait and
/// failures per group, for jobs submitted in the window (admins: everyone's; users: their own).
struct UsageCommand: CorralCommand {
    var since: String?
    var by: String?
    var user: String?

    static let usage = "usage: corral usage [--since 7d|RFC3339] [--by user|queue|node] [--user NAME]"

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> UsageCommand {
        var command = UsageCommand()
        while let argument = try arguments.next() {
            switch argument {
            case .option("--since"): command.since = try arguments.value(for: "--since")
            // Checked by the controller, which says what it takes.
            case .option("--by"): command.by = try arguments.value(for: "--by")
            case .option("--user"), .option("-u"): command.user = try arguments.value(for: "--user")
            case .option, .positional: throw UsageError(usage)
            }
        }
        return command
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let report = try await context.client().usage(since: since, by: by, user: user)
        context.print(report, text: Self.table(report))
        return 0
    }

    static func table(_ report: UsageResponse) -> String {
        let rows = report.rows.map { row in
            [
                row.key, String(row.jobs), Tables.hundredths(row.gpuHours), Tables.hundredths(row.cpuHours),
                row.meanWaitSeconds.map { Tables.duration(.seconds(Int64(min(max($0, 0), 1e12)))) } ?? "-",
                String(row.failures),
            ]
        }
        let header = [report.by.uppercased(), "JOBS", "GPU-HOURS", "CPU-HOURS", "MEAN WAIT", "FAILED"]
        return "since \(report.since)\n" + Tables.render(header, rows)
    }
}
