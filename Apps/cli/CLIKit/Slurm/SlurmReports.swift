import ClusterCore
import ClusterWire

/// How squeue, sacct and scontrol show Corral's jobs: Slurm's state names, columns and formats, so tools that
/// parse Slurm's output (submitit, Snakemake, dask-jobqueue) read Corral's. Pure: job views in, text out.
enum SlurmReports {
    /// Slurm's name for a job's state. TIMEOUT and OUT_OF_MEMORY come from the exit reason; a lost job is
    /// NODE_FAIL; a placed or starting one RUNNING.
    static func state(_ job: JobView) -> String {
        switch job.state {
        case "QUEUED": return "PENDING"
        // Placed and being started: Slurm's job runs from its allocation on (CONFIGURING is for nodes that
        // boot, and tools such as submitit count it as ended).
        case "ALLOCATED", "STARTING": return "RUNNING"
        case "RUNNING": return job.stopping == nil ? "RUNNING" : "COMPLETING"
        case "SUCCEEDED": return "COMPLETED"
        case "FAILED":
            if job.exitReason == "TIMEOUT" { return "TIMEOUT" }
            if job.exitReason == "OUT_OF_MEMORY" { return "OUT_OF_MEMORY" }
            return "FAILED"
        case "CANCELED": return "CANCELLED"
        case "LOST": return "NODE_FAIL"
        default: return job.state
        }
    }

    /// squeue's two-letter form.
    static func compactState(_ job: JobView) -> String {
        switch state(job) {
        case "PENDING": return "PD"
        case "RUNNING": return "R"
        case "COMPLETING": return "CG"
        case "COMPLETED": return "CD"
        case "TIMEOUT": return "TO"
        case "OUT_OF_MEMORY": return "OOM"
        case "CANCELLED": return "CA"
        case "NODE_FAIL": return "NF"
        default: return "F"
        }
    }

    /// Slurm's state names and short forms (`squeue -t`, `sacct -s`), as Corral states.
    static func corralStates(_ names: String) -> [String]? {
        var states: [String] = []
        for name in names.uppercased().split(separator: ",") {
            switch name {
            case "PD", "PENDING": states.append("QUEUED")
            case "R", "RUNNING", "CG", "COMPLETING": states += ["ALLOCATED", "STARTING", "RUNNING"]
            case "CD", "COMPLETED": states.append("SUCCEEDED")
            case "F", "FAILED", "TO", "TIMEOUT", "OOM", "OUT_OF_MEMORY": states.append("FAILED")
            case "CA", "CANCELLED": states.append("CANCELED")
            case "NF", "NODE_FAIL": states.append("LOST")
            case "ALL":
                states += ["QUEUED", "ALLOCATED", "STARTING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "LOST"]
            default: return nil
            }
        }
        return Array(Set(states)).sorted()
    }

    static func jobID(_ job: JobView) -> String { SlurmJobID.number(of: job.id) }

    /// The name as sbatch was given it (Corral's own name has other characters replaced by '_').
    static func name(_ job: JobView) -> String { job.env["SLURM_JOB_NAME"] ?? job.name }

    /// The nodes a job runs on (a gang's, comma-separated), or "" before it has any.
    static func nodeList(_ job: JobView) -> String {
        if let ranks = job.ranks, !ranks.isEmpty { return ranks.map(\.node).joined(separator: ",") }
        return job.node ?? ""
    }

    static func elapsed(_ job: JobView, now: Timestamp) -> Int {
        guard let started = job.startedAt.flatMap(WireTime.parse) else { return 0 }
        let end = job.endedAt.flatMap(WireTime.parse) ?? now
        return Int((end - started).milliseconds / 1000)
    }

    /// `2026-12-03T10:00:00` (UTC), or Slurm's `Unknown`.
    static func time(_ text: String?) -> String {
        guard let text, text.count >= 19 else { return "Unknown" }
        return String(text.prefix(19))
    }

    /// `CODE:SIGNAL`, as sacct's ExitCode.
    static func exitCode(_ job: JobView) -> String {
        let signal = job.signal.flatMap { SignalName.number($0) } ?? 0
        return "\(job.exitCode ?? 0):\(signal)"
    }

    static func timeLimit(_ job: JobView) -> String {
        job.timeLimit.map { SlurmTime.format($0, padded: true) } ?? "UNLIMITED"
    }

    /// squeue's `%` fields: their headers.
    static let squeueHeaders: [Character: String] = [
        "i": "JOBID", "A": "JOBID", "F": "ARRAY_JOB_ID", "K": "ARRAY_TASK_ID", "j": "NAME", "u": "USER",
        "P": "PARTITION", "t": "ST", "T": "STATE", "M": "TIME", "l": "TIME_LIMIT", "D": "NODES", "C": "CPUS",
        "N": "NODELIST", "r": "REASON", "R": "NODELIST(REASON)", "V": "SUBMIT_TIME", "S": "START_TIME",
        "b": "TRES_PER_NODE", "Z": "WORK_DIR",
    ]

    /// One squeue `%` field of a job (the letter is one of `squeueHeaders`).
    static func squeueValue(_ letter: Character, _ job: JobView, now: Timestamp) -> String {
        switch letter {
        case "F": return job.array.map { SlurmJobID.number(of: $0.arrayId) } ?? jobID(job)
        case "K": return job.array.map { String($0.index) } ?? "N/A"
        case "j": return name(job)
        case "u": return job.user
        case "P": return job.queue
        case "t": return compactState(job)
        case "T": return state(job)
        case "M": return SlurmTime.format(elapsed(job, now: now))
        case "l": return timeLimit(job)
        case "D": return String(job.nodes)
        case "C": return String(job.cpus * job.nodes)
        case "N": return nodeList(job)
        case "r": return job.reason ?? "None"
        case "R": return job.state == "QUEUED" ? "(\(job.reason ?? "None"))" : nodeList(job)
        case "V": return time(job.submittedAt)
        case "S": return job.startedAt.map { time($0) } ?? "N/A"
        case "b": return job.gpus > 0 ? "gres/gpu:\(job.gpus)" : "N/A"
        case "Z": return job.cwd
        default: return jobID(job)
        }
    }

    static let defaultSqueueFormat = "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"

    /// squeue's `-o` format: `%[.][width]letter` fields between literal text; `.` right-justifies, a width
    /// pads and truncates.
    static func squeue(_ jobs: [JobView], format: String, header: Bool, now: Timestamp) throws(SlurmError) -> String {
        try render(jobs, format: format, headers: squeueHeaders, header: header) { squeueValue($0, $1, now: now) }
    }

    /// Rows by a `%` format (squeue's and sinfo's), under a header line of the fields' names when asked.
    static func render<Row>(
        _ rows: [Row],
        format: String,
        headers: [Character: String],
        header: Bool,
        value: (Character, Row) -> String
    ) throws(SlurmError) -> String {
        let template = try parse(format)
        for part in template {
            if case .field(let letter, _, _) = part, headers[letter] == nil {
                throw SlurmError("invalid format field '%\(letter)'")
            }
        }
        func line(_ field: (Character) -> String) -> String {
            var text = ""
            for part in template {
                switch part {
                case .text(let literal): text += literal
                case .field(let letter, let width, let right): text += pad(field(letter), width: width, right: right)
                }
            }
            return text + "\n"
        }
        var text = header ? line { headers[$0] ?? "" } : ""
        for row in rows { text += line { value($0, row) } }
        return text
    }

    enum Part: Equatable {
        case text(String)
        case field(Character, width: Int?, right: Bool)
    }

    static func parse(_ format: String) throws(SlurmError) -> [Part] {
        var parts: [Part] = []
        var text = ""
        var characters = Array(format)[...]
        while let character = characters.popFirst() {
            guard character == "%" else {
                text.append(character)
                continue
            }
            if characters.first == "%" {
                text.append("%")
                characters = characters.dropFirst()
                continue
            }
            var right = false
            if characters.first == "." {
                right = true
                characters = characters.dropFirst()
            }
            var digits = ""
            while let digit = characters.first, digit.isASCII, digit.isNumber, digits.count < 4 {
                digits.append(digit)
                characters = characters.dropFirst()
            }
            guard let letter = characters.popFirst() else { throw SlurmError("format ends inside a field") }
            if !text.isEmpty { parts.append(.text(text)) }
            text = ""
            parts.append(.field(letter, width: Int(digits), right: right))
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return parts
    }

    static func pad(_ value: String, width: Int?, right: Bool) -> String {
        guard let width else { return value }
        let cut = String(value.prefix(width))
        let fill = String(repeating: " ", count: width - cut.count)
        return right ? fill + cut : cut + fill
    }
}
