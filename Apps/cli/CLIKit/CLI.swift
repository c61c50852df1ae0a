import ClusterCore
import ClusterWire
import CorralClient
import CorralSupport

/// The `corral` program: parses the command line, runs the command it names (`Commands/`), reports errors.
/// Exit codes: 0 ok, 1 error, 2 usage (and a job's own exit code for `run`, `wait` and `submit --wait`).
public enum CLI {
    public static let version = "0.1.0"

    public static let usage = """
        corral: submit and watch jobs on a Corral GPU cluster

        usage: corral <command> [options]

        commands:
          configure   save the controller endpoint and your token (~/.corral/config.toml), checked first;
                      (asks on a terminal; --token - reads stdin, --token-file FILE a file; --no-verify)
          submit      submit a job: corral submit [options] -- COMMAND [ARGS...] (-f job.toml, --wait);
                      (with no command on a terminal, it asks for the job)
          run         submit, stream its output, exit with its exit code
          ls, ps      list jobs (active ones; --all, --state, --user, --queue, --watch)
          show        show one job: spec, attempts, events
          wait        wait for jobs to end; exits with the job's exit code
          cancel      cancel jobs
          hold        keep queued jobs from starting (reason Held) until released
          release     let held jobs start again (an admin's hold: admins only)
          requeue     stop running jobs and queue them again, retries untouched (--hold: held there)
          update      change a job: corral update JOB [--time-limit T] [--priority N]
                      (users may lower a limit, and set a priority up to the queue's max_priority; admins anything)
          logs        a job's output: corral logs [-f] [--tail N] JOB (-f follows it to the end)
          exec        run a command in a running job: corral exec JOB [--rank N] -- COMMAND [ARGS...]
                      (as the job's user, in its cgroup, with its GPUs and environment; its exit code)
          explain     why a job waits: its reason and one line per node
          queues      the cluster's queues, their depth and GPU use
          nodes       list the cluster's nodes; nodes show NODE; (admin) nodes approve NODE [--rejoin]
                      | nodes revoke NODE
          tokens      (admin) tokens create --user NAME [--unix-user ACCOUNT] [--admin] [--expires 30d]
                      | list | revoke PREFIX
          whoami      who your token says you are
          usage       accounting: jobs, GPU-hours, CPU-hours, mean wait, failures per user, queue or node:
                      (--since 7d, --by user|queue|node, --user NAME)
          drain       stop placing new work on a node (admin): corral drain NODE [--reason TEXT]
          resume      let a drained node take work again (admin)
          config      config show | config set KEY VALUE (endpoint, token, ca_file, notify)
          slurm       Slurm's commands on Corral: corral slurm sbatch|srun|squeue|scancel|sacct|sinfo|scontrol ...
                      (also as links named sbatch, squeue...: just install-slurm-compat; docs/slurm.md)
          completion  completion bash|zsh|fish: a completion script
          version     print the version

        targets: an id or unique prefix, a name, a row of the last corral ls (3), a list (1,3,5), a range (2-4), or all

        global options: --json (machine-readable output), --endpoint URL, --token TOKEN
        environment: CORRAL_ENDPOINT, CORRAL_TOKEN, CORRAL_CA_FILE override the config file.
        exit codes: 0 ok, 1 error, 2 usage.

        example:
          corral submit --gpus 1 -- nvidia-smi
          corral ls
        """

    /// The command line without the program's name; called by a Slurm tool's name (a link to `corral` named
    /// `sbatch`, `squeue`...), it is that tool of `corral slurm`.
    public static func arguments(_ commandLine: [String]) -> [String] {
        let program = commandLine.first.map { String($0.split(separator: "/").last ?? "") } ?? ""
        let rest = Array(commandLine.dropFirst())
        return SlurmCommand.tools.contains(program) ? ["slurm", program] + rest : rest
    }

    /// A command line parsed, that needs the controller (or waits): `main` runs it.
    public struct Invocation: Sendable {
        let command: any CorralCommand
        let globals: GlobalOptions
    }

    /// What a command line asks for, found before Swift's concurrency runtime starts: the exit code when it is done
    /// already (a usage error, or `help`, `version` or `completion`, which run here), or what `main` must run. The
    /// commands done here start no threads: the runtime's pool is about 1 ms and 70 page faults of a process's
    /// start (docs/PERFORMANCE.md).
    public static func start(_ arguments: [String]) -> Start {
        do {
            let (command, globals) = try CLICommand.parse(arguments)
            if let code = command.runHere() { return .done(code) }
            return .run(Invocation(command: command, globals: globals))
        } catch {
            report(error, json: arguments.contains("--json"))
            return .done(error.exitCode)
        }
    }

    /// What `start` found: done, with this exit code, or this for `main` to run.
    public enum Start: Sendable {
        case done(Int32)
        case run(Invocation)
    }

    /// The whole program: parse, run, print errors as text or (with --json) as a JSON envelope on stderr.
    public static func main(_ arguments: [String], environment: [String: String]) async -> Int32 {
        switch start(arguments) {
        case .done(let code): code
        case .run(let invocation): await main(invocation, environment: environment)
        }
    }

    /// Runs what `start` left to run.
    public static func main(_ invocation: Invocation, environment: [String: String]) async -> Int32 {
        let json = invocation.globals.json
        do {
            return try await invocation.command.run(
                CommandContext(globals: invocation.globals, environment: environment)
            )
        } catch let error as CLIError {
            report(error, json: json)
            return error.exitCode
        } catch let error as CorralError {
            let cliError = CLIError.failure(advice(for: error), code: error.code ?? error.kind.rawValue)
            report(cliError, json: json)
            return 1
        } catch {
            report(CLIError.failure("\(error)"), json: json)
            return 1
        }
    }

    /// A line for the person at the terminal, on stderr, that no script should parse from stdout.
    @Sendable static func notice(_ text: String) { FileHandleOutput.stderr("corral: \(text)\n") }

    static func report(_ error: CLIError, json: Bool) {
        if json {
            FileHandleOutput.stderr(
                String(
                    decoding: WireJSON.encode(ErrorEnvelope(code: error.code, message: error.message)),
                    as: UTF8.self
                )
                    + "\n"
            )
        } else {
            FileHandleOutput.stderr("corral: \(error.message)\n")
        }
    }

    /// Every error says what to do next.
    static func advice(for error: CorralError) -> String {
        switch error.kind {
        case .unauthorized: "token rejected: run corral configure --token TOKEN (\(error.message))"
        case .unreachable: "\(error.message)\nis the controller running? check the endpoint with corral configure"
        default: error.message
        }
    }
}
