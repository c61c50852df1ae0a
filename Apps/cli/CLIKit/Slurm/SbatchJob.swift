import ClusterCore
import ClusterWire

/// `sbatch`'s whole decision, pure: the arguments, the script and the submitting environment in, the Corral
/// submission and the warnings out. The script runs through `SbatchPrologue`, which sets Slurm's variables and
/// sends its output where Slurm would.
struct SbatchJob: Sendable {
    var request: SubmitJobRequest
    var values: SbatchValues
    var warnings: [String] { values.quiet ? [] : values.warnings }

    /// Where it runs from: the submitting directory, host and environment.
    struct Origin: Sendable {
        var cwd: String
        var host: String
        var environment: [String: String]
    }

    /// `read(path)` reads the script (nil: standard input), as text.
    static func make(
        _ arguments: [String],
        origin: Origin,
        read: (String?) throws(SlurmError) -> String
    ) throws(SlurmError) -> SbatchJob {
        let (settings, rest) = try SbatchParser.options(arguments)
        let wrap = settings.last { $0.name == "wrap" }?.value
        let script: String
        var name: String
        if let wrap {
            guard rest.isEmpty else { throw SlurmError("script arguments are not allowed with --wrap") }
            script = "#!/bin/sh\n# This script was made by sbatch --wrap.\n\n\(wrap)\n"
            name = "wrap"
        } else {
            script = try read(rest.first)
            name = rest.first.map { String($0.split(separator: "/").last ?? "sbatch") } ?? "sbatch"
        }
        try check(script)
        let directives = wrap == nil ? try SbatchParser.directives(script) : []
        var values = try SbatchValues(directives + settings)
        if values.help { return SbatchJob(request: SubmitJobRequest(command: []), values: values) }
        if let given = values.name { name = given }
        let arguments = wrap == nil ? Array(rest.dropFirst()) : []
        let output = values.output ?? (values.array == nil ? "slurm-%j.out" : "slurm-%A_%a.out")
        // A signal for the steps only (no B:) is ignored by the batch shell; srun gives it back to its tasks.
        let stepSignal = values.signalToBatch ? "" : values.signal.map { String($0.prefix { $0 != "@" }) } ?? ""
        let command =
            [
                "/bin/sh", "-c", SbatchPrologue.text, SbatchPrologue.marker, output, values.error ?? output,
                values.openMode ?? "truncate", stepSignal, script,
            ] + arguments
        let request = try submission(&values, name: name, command: command, origin: origin)
        return SbatchJob(request: request, values: values)
    }

    /// Slurm's own checks of a batch script: it starts with `#!`, is text, and is not too long for Corral.
    static func check(_ script: String) throws(SlurmError) {
        guard script.utf8.count <= SpecLimits.maxArgumentBytes else {
            throw SlurmError("the batch script is too long (at most \(SpecLimits.maxArgumentBytes / 1024) KiB)")
        }
        guard !script.utf8.contains(0) else { throw SlurmError("the batch script contains a NUL byte") }
        guard !script.utf8.contains(13) else {
            throw SlurmError(
                "the batch script contains DOS line breaks (\\r\\n) instead of expected UNIX line breaks (\\n)"
            )
        }
        guard script.hasPrefix("#!") else {
            throw SlurmError(
                "this does not look like a batch script: the first line must start with #! followed by the path to "
                    + "an interpreter (or use --wrap)"
            )
        }
    }

    static func submission(
        _ values: inout SbatchValues,
        name: String,
        command: [String],
        origin: Origin
    ) throws(SlurmError) -> SubmitJobRequest {
        let nodes = values.nodes ?? 1
        let tasksPerNode = values.tasksPerNode ?? values.ntasks.map { ($0 + nodes - 1) / nodes } ?? 1
        let gpus = try gpusPerNode(values, nodes: nodes, tasksPerNode: tasksPerNode)
        var cpusPerNode = (values.cpusPerTask ?? 1) * tasksPerNode
        if let perGPU = values.cpusPerGPU, let gpus, gpus.count > 0 { cpusPerNode = perGPU * gpus.count }
        var memory = values.memory
        if memory == nil, let perCPU = values.memoryPerCPU { memory = perCPU * Int64(cpusPerNode) }
        if memory == nil, let perGPU = values.memoryPerGPU, let gpus, gpus.count > 0 {
            memory = perGPU * Int64(gpus.count)
        }
        let cwd = values.chdir.map { $0.hasPrefix("/") ? $0 : origin.cwd + "/" + $0 } ?? origin.cwd
        var request = SubmitJobRequest(command: command)
        // Corral's names are letters, digits, '-', '_' and '.': others become '_' (Nextflow's `nf-ALIGN_(x)`);
        // the name as given stays in SLURM_JOB_NAME, which %x and the Slurm commands show.
        request.name = String(name.map { JobSpec.isNameCharacter($0) ? $0 : "_" })
        request.cwd = cwd
        request.queue = values.partition
        if let time = values.time { request.timeLimit = time }
        request.checkpointSignal = values.signal
        if values.hold { request.hold = true }
        // Slurm sends a signal whose lead is the whole limit or more at the start; Corral's lead must be shorter.
        if let limit = request.timeLimit, let text = values.signal, let signal = JobSignal.parse(text),
            signal.seconds >= limit
        {
            request.checkpointSignal = JobSignal(number: signal.number, seconds: max(1, limit - 1)).description
        }
        request.priority = values.priority
        request.array = values.array
        request.dependsOn = values.dependsOn
        request.gpuType = gpus?.type
        if nodes > 1 {
            request.nodes = nodes
            (request.gpusPerNode, request.cpusPerNode) = (gpus?.count ?? 0, cpusPerNode)
            request.memoryPerNode = memory.map { ByteCount($0) }
        } else {
            (request.gpus, request.cpus) = (gpus?.count ?? 0, cpusPerNode)
            request.memory = memory.map { ByteCount($0) }
        }
        var (env, secrets) = try exported(values.export, from: origin.environment, gang: nodes > 1)
        if !secrets.isEmpty {
            values.warnings.append(
                "not exported, as they look like secrets: \(secrets.joined(separator: ", ")) (name them in --export to pass them)"
            )
        }
        env["SLURM_JOB_NAME"] = name
        env["SLURM_SUBMIT_DIR"] = origin.cwd
        env["SLURM_SUBMIT_HOST"] = origin.host
        env["SLURM_CLUSTER_NAME"] = "corral"
        env["SLURM_JOB_PARTITION"] = values.partition ?? "default"
        env["SLURM_NNODES"] = String(nodes)
        env["SLURM_JOB_NUM_NODES"] = String(nodes)
        env["SLURM_NTASKS"] = String(values.ntasks ?? tasksPerNode * nodes)
        env["SLURM_NPROCS"] = env["SLURM_NTASKS"]
        env["SLURM_NTASKS_PER_NODE"] = String(tasksPerNode)
        env["SLURM_CPUS_PER_TASK"] = String(values.cpusPerTask ?? 1)
        env["SLURM_CPUS_ON_NODE"] = String(cpusPerNode)
        env["SLURM_JOB_CPUS_PER_NODE"] = String(cpusPerNode)
        if let gpus, gpus.count > 0 { env["SLURM_GPUS_ON_NODE"] = String(gpus.count) }
        if let memory { env["SLURM_MEM_PER_NODE"] = String(memory >> 20) }
        if let text = values.array, let array = try? ArraySpec.parse(text), let first = array.indices.first,
            let last = array.indices.last
        {
            env["SLURM_ARRAY_TASK_MIN"] = String(first)
            env["SLURM_ARRAY_TASK_MAX"] = String(last)
            let steps = Set(zip(array.indices, array.indices.dropFirst()).map { $1 - $0 })
            env["SLURM_ARRAY_TASK_STEP"] = String(steps.count == 1 ? steps.first! : 1)
        }
        if let time = values.time, let seconds = time { env["SLURM_JOB_TIME_LIMIT"] = String(seconds / 60) }
        // srun in the job opens its files the same way (Slurm passes it on so).
        if let mode = values.openMode { env["SLURM_OPEN_MODE"] = mode == "append" ? "a" : "t" }
        request.env = env
        return request
    }

    /// GPUs per node: `--gpus-per-node` or `--gres`, else `--gpus-per-task` times the tasks per node, else
    /// `--gpus` spread evenly over the nodes (it must divide).
    static func gpusPerNode(
        _ values: SbatchValues,
        nodes: Int,
        tasksPerNode: Int
    ) throws(SlurmError) -> SbatchValues.GPUCount? {
        if let perNode = values.gpusPerNode { return perNode }
        if let perTask = values.gpusPerTask {
            return SbatchValues.GPUCount(type: perTask.type, count: perTask.count * tasksPerNode)
        }
        guard let total = values.gpus else { return nil }
        guard total.count % nodes == 0 else {
            throw SlurmError(
                "--gpus=\(total.count) with --nodes=\(nodes): the GPUs must be divisible by the nodes (Corral gives "
                    + "every node of a job the same share; use --gpus-per-node)"
            )
        }
        return SbatchValues.GPUCount(type: total.type, count: total.count / nodes)
    }

    /// Variables of the submitting shell that describe that shell or that machine, not the job: the job gets
    /// its account's (HOME, USER, SHELL...) on its node instead.
    static let local: Set<String> = [
        "_", "PWD", "OLDPWD", "SHLVL", "HOME", "USER", "LOGNAME", "SHELL", "MAIL", "TMPDIR", "TERM", "DISPLAY",
        "XDG_RUNTIME_DIR", "XDG_SESSION_ID", "XDG_SESSION_TYPE", "XDG_SESSION_CLASS", "DBUS_SESSION_BUS_ADDRESS",
        "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "KRB5CCNAME", "HOSTNAME",
    ]

    /// Whether a name looks like a secret's (a token, a password, an API key): not carried by ALL.
    static func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "APIKEY", "API_KEY", "CREDENTIAL", "PRIVATE"].contains {
            upper.contains($0)
        } || upper.hasSuffix("_KEY")
    }

    /// The job's environment by `--export`: ALL (the default) is the submitting environment, NONE none,
    /// `ALL,A=1` all and A, `A,B=2` only A (as set here) and B; ALL and NONE in any case. Never Corral's own
    /// variables (the token), Slurm's of an enclosing job, what Corral sets itself, or what describes the
    /// submitting shell (`local`). ALL leaves out what looks like a secret (returned, for a warning); a
    /// variable named alone is passed.
    static func exported(
        _ export: String?,
        from environment: [String: String],
        gang: Bool
    ) throws(SlurmError) -> (env: [String: String], secrets: [String]) {
        let items = (export ?? "ALL").split(separator: ",").map(String.init)
        var env: [String: String] = [:]
        var secrets: [String] = []
        func allowed(_ name: String) -> Bool {
            JobSpec.isEnvName(name) && !name.hasPrefix("CORRAL_") && !name.hasPrefix("SLURM_")
                && !name.hasPrefix("SBATCH_") && !SpecLimits.reservedEnvNames.contains(name)
                && !(gang && SpecLimits.gangEnvNames.contains(name))
        }
        for (position, item) in items.enumerated() {
            let keyword = item.uppercased()
            if let equals = item.firstIndex(of: "=") {
                let name = String(item[..<equals])
                guard allowed(name) else { throw SlurmError("--export: '\(name.prefix(64))' cannot be set") }
                env[name] = String(item[item.index(after: equals)...])
            } else if keyword == "ALL" || keyword == "NIL" && position == 0 {
                for (name, value) in environment where allowed(name) && !local.contains(name) && env[name] == nil {
                    if looksSecret(name) { secrets.append(name) } else { env[name] = value }
                }
            } else if keyword == "NONE" {
                continue
            } else if allowed(item) {
                if let value = environment[item] { env[item] = value }
            } else {
                throw SlurmError("--export: '\(item.prefix(64))' is not a variable Corral can pass")
            }
        }
        guard env.count <= SpecLimits.maxEnvEntries else {
            throw SlurmError("--export: more than \(SpecLimits.maxEnvEntries) variables")
        }
        return (env, secrets.filter { env[$0] == nil }.sorted())
    }
}
