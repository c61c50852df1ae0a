import ClusterCore
import ClusterWire
import CorralClient
import CorralSupport
import Glibc

/// `corral slurm TOOL ARGS...`, and the same when the binary is called by a Slurm tool's name (the links
/// `just install-slurm-compat` makes): sbatch, srun, squeue, scancel, sacct, sinfo, scontrol. Each is a thin shell
/// over CorralClient; the decisions are in the pure `Sbatch*` and `Slurm*` types (docs/slurm.md).
struct SlurmCommand: CorralCommand {
    static let tools = ["sbatch", "srun", "squeue", "scancel", "sacct", "sinfo", "scontrol"]
    static var takesFreeFormArguments: Bool { true }

    var tool: String
    var arguments: [String]

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> SlurmCommand {
        let words = arguments.rest()
        guard let tool = words.first, tools.contains(tool) else {
            throw UsageError("usage: corral slurm \(tools.joined(separator: "|")) [ARGS...]  (docs/slurm.md)")
        }
        return SlurmCommand(tool: tool, arguments: Array(words.dropFirst()))
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        do {
            switch tool {
            case "sbatch": return try await sbatch(context)
            case "srun": return try await srun(context)
            case "squeue": return try await SlurmQueries.squeue(arguments, context: context)
            case "sacct": return try await SlurmQueries.sacct(arguments, context: context)
            case "sinfo": return try await SlurmQueries.sinfo(arguments, context: context)
            case "scancel": return try await scancel(context)
            default: return try await scontrol(context)
            }
        } catch let error as SlurmError {
            FileHandleOutput.stderr("\(tool): error: \(error.message)\n")
            return 1
        } catch let error as CorralError {
            FileHandleOutput.stderr("\(tool): error: \(error.message)\n")
            return 1
        }
    }

    func sbatch(_ context: CommandContext) async throws -> Int32 {
        let origin = SbatchJob.Origin(
            cwd: Files.currentDirectory(),
            host: Self.hostname(),
            environment: context.environment
        )
        let job = try SbatchJob.make(arguments, origin: origin) { path throws(SlurmError) in
            do {
                return try Files.read(path ?? "/dev/stdin", limit: SpecLimits.maxArgumentBytes + 1)
            } catch {
                throw SlurmError("unable to open the batch script \(path ?? "(standard input)"): \(error)")
            }
        }
        if job.values.help {
            FileHandleOutput.stdout("usage: sbatch [OPTIONS] SCRIPT [ARGS...] | sbatch [OPTIONS] --wrap=COMMAND\n")
            return 0
        }
        for warning in job.warnings { FileHandleOutput.stderr("sbatch: warning: \(warning)\n") }
        let client = try context.client()
        let id =
            job.request.array == nil
            ? try await client.submit(job.request).id : try await client.submitArray(job.request).arrayId
        let number = SlurmJobID.number(of: id)
        FileHandleOutput.stdout(job.values.parsable ? "\(number)\n" : "Submitted batch job \(number)\n")
        guard job.values.wait else { return 0 }
        // -W: the job's exit code (an array's highest), as sbatch does.
        let final = try await client.wait(for: id)
        guard final.arraySummary != nil else { return Self.exitCode(final) }
        let tasks = try await SlurmQueries.all(client) { cursor in
            try await client.jobs(limit: 1000, cursor: cursor, array: id)
        }
        return tasks.map(Self.exitCode).max() ?? 0
    }

    /// Inside a job: becomes the node's tasks (`Srun.step`); elsewhere: submits the command and streams it.
    func srun(_ context: CommandContext) async throws -> Int32 {
        if context.environment["SLURM_JOB_ID"] != nil && context.environment["CORRAL_JOB_ID"] != nil {
            let step = try Srun.step(arguments, environment: context.environment)
            for warning in step.warnings { FileHandleOutput.stderr("srun: warning: \(warning)\n") }
            var argv: [UnsafeMutablePointer<CChar>?] = (["sh", "-c", step.script, "srun"] + step.command).map {
                strdup($0)
            }
            argv.append(nil)
            // Ignored and blocked signals survive exec: the tasks get the defaults (an ignored SIGCHLD would
            // leave the shell's `wait` waiting forever, an ignored SIGPIPE make `cmd | head` misbehave).
            for signal in [SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGUSR1, SIGUSR2] {
                Glibc.signal(signal, SIG_DFL)
            }
            var none = sigset_t()
            sigemptyset(&none)
            sigprocmask(SIG_SETMASK, &none, nil)
            execv("/bin/sh", &argv)
            throw SlurmError("cannot run /bin/sh: \(String(cString: strerror(errno)))")
        }
        let origin = SbatchJob.Origin(
            cwd: Files.currentDirectory(),
            host: Self.hostname(),
            environment: context.environment
        )
        let (request, warnings) = try Srun.submission(arguments, origin: origin)
        for warning in warnings { FileHandleOutput.stderr("srun: warning: \(warning)\n") }
        return try await Runner.run(request, client: try context.client())
    }

    static func exitCode(_ job: JobView) -> Int32 {
        if job.state == "SUCCEEDED" { return 0 }
        if let code = job.exitCode, code != 0 { return code }
        return 1
    }

    func scancel(_ context: CommandContext) async throws -> Int32 {
        let flags = try SlurmFlags(
            arguments,
            specs: [
                .init("user", "u", value: true), .init("name", "n", value: true), .init("state", "t", value: true),
                .init("partition", "p", value: true), .init("me"), .init("quiet", "Q"), .init("batch", "b"),
                .init("full", "f"), .init("signal", "s", value: true), .init("clusters", "M", value: true),
            ]
        )
        if flags.has("signal") {
            throw SlurmError("--signal is not supported: Corral stops a job (SIGTERM, its grace, SIGKILL) or nothing")
        }
        let client = try context.client()
        var ids: [String] = []
        for word in flags.words {
            guard let id = SlurmJobID.corralID(word) else { throw SlurmError("invalid job id \(word.prefix(64))") }
            ids.append(id)
        }
        if flags.has("user") || flags.has("name") || flags.has("state") || flags.has("partition") || flags.has("me") {
            guard ids.isEmpty else { throw SlurmError("give job ids or filters (-u, -n, -t, -p), not both") }
            var user = flags.value("user")
            if flags.has("me") { user = try await client.whoami().user }
            let states = try SlurmQueries.states(flags.value("state"), default: SlurmQueries.active)
            let jobs = try await SlurmQueries.listing(client, states: states, user: user, flags: flags)
            ids = jobs.map(\.id)
        }
        guard !ids.isEmpty || flags.has("user") || flags.has("name") || flags.has("me") else {
            throw SlurmError("no job identification provided")
        }
        var failed = false
        for id in ids {
            do {
                _ = try await client.cancel(id)
            } catch {
                failed = true
                FileHandleOutput.stderr(
                    "scancel: error: Kill job error on job id \(SlurmJobID.number(of: id)): \(error.message)\n"
                )
            }
        }
        return failed ? 1 : 0
    }

    /// `scontrol show job ID`: the fields tools read, in Slurm's `Key=Value` form; job control in
    /// `SlurmControl`.
    func scontrol(_ context: CommandContext) async throws -> Int32 {
        // `scontrol show hostnames [LIST]`: one host a line, from LIST or the job's SLURM_JOB_NODELIST.
        if arguments.count >= 2, arguments[0] == "show", arguments[1] == "hostnames" || arguments[1] == "hostname" {
            guard arguments.count <= 3,
                let list = arguments.count == 3 ? arguments[2] : context.environment["SLURM_JOB_NODELIST"]
            else { throw SlurmError("usage: scontrol show hostnames [LIST] (or run it in a job)") }
            FileHandleOutput.stdout(try SlurmHostList.expand(list).map { $0 + "\n" }.joined())
            return 0
        }
        if let verb = arguments.first?.lowercased(), SlurmControl.verbs.contains(verb) {
            return try await SlurmControl.parse(arguments).run(try context.client())
        }
        guard arguments.count == 3, arguments[0] == "show", arguments[1] == "job" || arguments[1] == "jobid" else {
            if let verb = arguments.first, ["suspend", "resume"].contains(verb) {
                throw SlurmError("scontrol \(verb) is not supported by Corral (docs/slurm.md)")
            }
            throw SlurmError(
                "usage: scontrol show job ID | show hostnames [LIST] | hold|release|requeue|requeuehold JOB_LIST "
                    + "| update JobId=ID [TimeLimit=T] [Priority=N]"
            )
        }
        guard let id = SlurmJobID.corralID(arguments[2]) else {
            throw SlurmError("invalid job id \(arguments[2].prefix(64))")
        }
        let job = try await context.client().job(id)
        FileHandleOutput.stdout(SlurmReports.scontrol(job, now: SystemClock().now()))
        return 0
    }

    static func hostname() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
