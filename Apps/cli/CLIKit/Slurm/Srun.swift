import ClusterWire

/// `srun`. Inside an sbatch job (`SLURM_JOB_ID` set by `SbatchPrologue`) it runs its command as this node's
/// tasks: `--ntasks-per-node` copies (else the job's), each with `SLURM_PROCID`, `SLURM_LOCALID` and its own
/// `--output`/`--error` file, by a few lines of shell it `exec`s, so one task is the very process that srun
/// was. Outside a job it submits the command as one (`SbatchJob.submission`) and streams it, as `corral run`.
enum Srun {
    static let specs: [SlurmFlags.Spec] = [
        .init("output", "o", value: true), .init("error", "e", value: true), .init("input", "i", value: true),
        .init("ntasks", "n", value: true), .init("nodes", "N", value: true), .init("ntasks-per-node", value: true),
        .init("cpus-per-task", "c", value: true), .init("job-name", "J", value: true),
        .init("nodelist", "w", value: true), .init("exclude", "x", value: true), .init("time", "t", value: true),
        .init("mem", value: true), .init("mem-per-cpu", value: true), .init("mem-per-gpu", value: true),
        .init("gpus", "G", value: true), .init("gpus-per-node", value: true), .init("gpus-per-task", value: true),
        .init("gres", value: true), .init("cpu-bind", value: true), .init("mem-bind", value: true),
        .init("gpu-bind", value: true), .init("mpi", value: true), .init("export", value: true),
        .init("partition", "p", value: true), .init("jobid", value: true), .init("chdir", "D", value: true),
        .init("distribution", "m", value: true), .init("signal", value: true), .init("open-mode", value: true),
        .init("account", "A", value: true), .init("qos", "q", value: true), .init("constraint", "C", value: true),
        .init("dependency", "d", value: true), .init("wait", "W", value: true), .init("kill-on-bad-exit", "K"),
        .init("label", "l"), .init("unbuffered", "u"), .init("pty"), .init("overlap"), .init("exact"),
        .init("exclusive"), .init("quiet", "Q"), .init("verbose", "v"),
    ]

    /// What srun does inside a job: `/bin/sh -c script srun COMMAND...`, and its warnings.
    struct Step: Equatable {
        var script: String
        var command: [String]
        var warnings: [String]
    }

    static func step(_ arguments: [String], environment env: [String: String]) throws(SlurmError) -> Step {
        let flags = try SlurmFlags(arguments, specs: specs, stopAtWord: true)
        guard !flags.words.isEmpty else { throw SlurmError("no command given to execute") }
        if flags.has("pty") { throw SlurmError("--pty is not supported inside a job: use corral exec JOB") }
        // Options that shape the step on this node are applied; the others cannot change the job's allocation.
        let applied: Set<String> = [
            "output", "error", "ntasks", "nodes", "ntasks-per-node", "open-mode", "chdir", "unbuffered", "quiet",
            "overlap", "exact", "kill-on-bad-exit", "verbose",
        ]
        var warnings: [String] = []
        for name in Set(flags.given.map(\.name)).subtracting(applied).sorted() {
            warnings.append("--\(name) is ignored inside a job: its allocation and this node's tasks apply")
        }
        func number(_ text: String?, _ option: String) throws(SlurmError) -> Int? {
            guard let text else { return nil }
            return try SbatchValues.count(text, option: option, max: 1024)
        }
        let jobNodes = max(1, Int(env["SLURM_NNODES"] ?? "") ?? 1)
        let node = Int(env["SLURM_NODEID"] ?? "") ?? 0
        // `-N K`: the step runs on the job's first K nodes; the others run nothing.
        let asked = try number(flags.value("nodes").map { String($0.prefix { $0 != "-" }) }, "--nodes")
        let nodes = min(jobNodes, asked ?? jobNodes)
        var perNode = Int(env["SLURM_NTASKS_PER_NODE"] ?? "") ?? 1
        var total: Int?
        if let tasks = try number(flags.value("ntasks"), "--ntasks") {
            perNode = (tasks + nodes - 1) / nodes
            total = tasks
        }
        if let tasks = try number(flags.value("ntasks-per-node"), "--ntasks-per-node") { perNode = tasks }
        let count = total ?? perNode * nodes
        let ranks = node < nodes ? (0..<perNode).map { node * perNode + $0 }.filter { $0 < count } : []
        if ranks.isEmpty { return Step(script: "exit 0", command: flags.words, warnings: warnings) }
        let mode = flags.value("open-mode") ?? (env["SLURM_OPEN_MODE"] == "a" ? "append" : "truncate")
        guard ["append", "truncate"].contains(mode) else {
            throw SlurmError("--open-mode=\(mode.prefix(32)): expected append or truncate")
        }
        let redirect = mode == "append" ? ">>" : ">"
        let job = env["SLURM_JOB_ID"] ?? ""
        let directory = flags.value("chdir").map { "cd \(quote($0)) || exit 1; " } ?? ""
        var lines = [directory + "rc=0", "pids="]
        for (local, rank) in ranks.enumerated() {
            let values: [Character: String] = [
                "j": job, "x": env["SLURM_JOB_NAME"] ?? "", "A": env["SLURM_ARRAY_JOB_ID"] ?? job,
                "a": env["SLURM_ARRAY_TASK_ID"] ?? "4294967294", "u": env["SLURM_JOB_USER"] ?? env["USER"] ?? "",
                "N": env["SLURMD_NODENAME"] ?? "", "n": String(node), "t": String(rank), "s": "0",
            ]
            var files = ""
            if let output = flags.value("output") {
                files += " \(redirect)\(quote(SlurmPattern.expand(output, values)))"
                if flags.value("error") == nil { files += " 2>&1" }
            }
            if let error = flags.value("error") { files += " 2\(redirect)\(quote(SlurmPattern.expand(error, values)))" }
            let exports =
                "export SLURM_PROCID=\(rank) SLURM_LOCALID=\(local) SLURM_NTASKS=\(count) SLURM_NPROCS=\(count) "
                + "SLURM_STEP_ID=0 SLURM_STEPID=0 SLURM_STEP_NUM_TASKS=\(count) SLURM_STEP_NUM_NODES=\(nodes)"
            if ranks.count == 1 {
                return Step(
                    script: "\(directory)\(exports); exec \"$@\"\(files)",
                    command: flags.words,
                    warnings: warnings
                )
            }
            lines.append("(\(exports); exec \"$@\"\(files)) & pids=\"$pids $!\"")
        }
        // The highest exit code of the tasks, as srun reports.
        lines.append("for p in $pids; do wait $p; s=$?; [ $s -gt $rc ] && rc=$s; done; exit $rc")
        return Step(script: lines.joined(separator: "\n"), command: flags.words, warnings: warnings)
    }

    /// Outside a job: the job to submit for the command (its options as sbatch's), to be streamed.
    static func submission(
        _ arguments: [String],
        origin: SbatchJob.Origin
    ) throws(SlurmError) -> (SubmitJobRequest, [String]) {
        let flags = try SlurmFlags(arguments, specs: specs, stopAtWord: true)
        guard !flags.words.isEmpty else { throw SlurmError("no command given to execute") }
        for name in ["pty", "output", "error", "input", "jobid"] where flags.has(name) {
            throw SlurmError("--\(name) outside a job is not supported: srun streams the job's output (corral run)")
        }
        let shared = Set(SbatchOption.mapped.map(\.long) + SbatchOption.ignoredOptions.map(\.long))
        var values = try SbatchValues(
            flags.given.filter { shared.contains($0.name) }.map { SbatchSetting(name: $0.name, value: $0.value) }
        )
        for (name, _) in flags.given where !shared.contains(name) && !["unbuffered", "quiet"].contains(name) {
            values.warnings.append("--\(name) is ignored outside a job")
        }
        let name = values.name ?? String(flags.words[0].split(separator: "/").last ?? "srun")
        let request = try SbatchJob.submission(&values, name: name, command: flags.words, origin: origin)
        return (request, values.quiet ? [] : values.warnings)
    }

    /// A word for sh, in single quotes.
    static func quote(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }
}
