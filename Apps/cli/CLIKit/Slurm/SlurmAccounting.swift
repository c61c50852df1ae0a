import ClusterCore
import ClusterWire

/// sacct's fields and its two output forms: fixed-width columns under a line of dashes, or `|`-separated
/// (`-p` with a trailing `|`, `-P` without), as tools parse them.
enum SlurmAccounting {
    static let defaultFields = "JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode"

    static let widths: [String: Int] = [
        "jobid": 12, "jobidraw": 12, "jobname": 10, "partition": 10, "account": 10, "alloccpus": 10,
        "state": 10, "exitcode": 8, "elapsed": 10, "elapsedraw": 10, "start": 19, "end": 19, "submit": 19,
        "nodelist": 15, "user": 9, "nnodes": 8, "allocnodes": 10, "timelimit": 10, "workdir": 20,
        "reqcpus": 8, "allocgpus": 9, "reason": 20, "restarts": 8,
    ]

    /// One field of a job, by sacct's name (any case); nil for a field Corral does not know.
    static func value(_ field: String, _ job: JobView, now: Timestamp) -> String? {
        switch field.lowercased() {
        case "jobid": return SlurmReports.jobID(job)
        case "jobidraw": return SlurmReports.jobID(job)
        case "jobname": return SlurmReports.name(job)
        case "partition": return job.queue
        case "account": return ""
        case "user": return job.user
        case "alloccpus", "reqcpus": return String(job.cpus * job.nodes)
        case "allocgpus": return String(job.gpus * job.nodes)
        case "allocnodes", "nnodes": return String(job.nodes)
        case "state": return SlurmReports.state(job)
        case "exitcode": return SlurmReports.exitCode(job)
        case "elapsed": return SlurmTime.format(SlurmReports.elapsed(job, now: now), padded: true)
        case "elapsedraw": return String(SlurmReports.elapsed(job, now: now))
        case "start": return SlurmReports.time(job.startedAt)
        case "end": return SlurmReports.time(job.endedAt)
        case "submit": return SlurmReports.time(job.submittedAt)
        case "nodelist": return job.startedAt == nil ? "None assigned" : SlurmReports.nodeList(job)
        case "timelimit": return SlurmReports.timeLimit(job)
        case "workdir": return job.cwd
        case "reason": return job.reason ?? "None"
        case "restarts": return String(max(0, job.attempt - 1))
        default: return nil
        }
    }

    enum Layout: Equatable {
        case columns
        /// `-p`: a `|` after every field.
        case parsable
        /// `-P`: `|` between fields.
        case parsable2
    }

    /// The report: `fields` as given to `--format` (`Name` or `Name%WIDTH`, comma-separated).
    static func report(
        _ jobs: [JobView],
        fields text: String,
        layout: Layout,
        header: Bool,
        now: Timestamp
    ) throws(SlurmError) -> String {
        var fields: [(name: String, width: Int)] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            guard let width = widths[name.lowercased()] else {
                throw SlurmError("invalid field requested: \"\(name.prefix(64))\"")
            }
            var chosen = width
            if parts.count == 2 {
                guard let given = Int(parts[1]), given > 0, given <= 1000 else {
                    throw SlurmError("invalid width in \"\(item.prefix(64))\"")
                }
                chosen = given
            }
            fields.append((name, chosen))
        }
        guard !fields.isEmpty else { throw SlurmError("no fields requested") }
        func line(_ values: [String]) -> String {
            switch layout {
            case .parsable: return values.map { $0 + "|" }.joined() + "\n"
            case .parsable2: return values.joined(separator: "|") + "\n"
            case .columns:
                return zip(fields, values).enumerated()
                    .map { position, pair in
                        SlurmReports.pad(pair.1, width: pair.0.width, right: position > 0)
                    }
                    .joined(separator: " ") + " \n"
            }
        }
        var output = ""
        if header {
            output += line(fields.map(\.name))
            if layout == .columns { output += line(fields.map { String(repeating: "-", count: $0.width) }) }
        }
        for job in jobs { output += line(fields.map { value($0.name, job, now: now) ?? "" }) }
        return output
    }
}
