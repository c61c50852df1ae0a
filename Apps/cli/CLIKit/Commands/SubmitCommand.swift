import ClusterWire
import CorralClient
import CorralSupport

/// `corral submit [options] -- COMMAND [ARGS...]`: prints the job's id (or the job, with --json); with
/// `--wait`, waits for it and exits with its exit code (an array: for every task, 0 when all succeeded).
struct SubmitCommand: CorralCommand {
    var request: SubmitJobRequest
    var options = SubmitOptions()

    static let usage = """
        usage: corral submit [options] -- COMMAND [ARGS...]

        options:
          --name NAME          a name to find the job by
          --gpus N             GPUs (default 0)
          --gpu-type TYPE      only GPUs whose name contains TYPE, e.g. H100
          --gpu-mem SIZE       only GPUs with at least SIZE of memory each, e.g. 80G
          --cpus N             CPU cores (default 1)
          --mem SIZE           memory, e.g. 32G (default: no limit asked)
          --nodes N            a gang job on N nodes, placed all at once (default 1)
          --gpus-per-node N    with --nodes: GPUs on each node (likewise --cpus-per-node, --mem-per-node)
          --array SPEC         a job array: 0-99, 1,5,7 or 0-20:5; %8 runs at most 8 tasks at once
          --queue Q            queue (default "default")
          --env KEY=VALUE      an environment variable (repeatable)
          --cwd DIR            working directory on the node (default: the current directory)
          --time-limit T       seconds, or 90s, 30m, 2h, 1d
          --kill-grace T       time between SIGTERM and SIGKILL when stopped (default 10s)
          --signal SIG@S       send SIG (e.g. USR1) S seconds before the time limit and before the SIGTERM of
                               a preemption, to checkpoint (default S: 60)
          --retries N          retries when the job itself fails (default 0)
          --priority N         higher runs first (default 0)
          --image IMAGE        run in a container image
          --label KEY=VALUE    run only on nodes with this label (repeatable)
          --after JOB          run after this job succeeds (repeatable)
          --stage SRC[:NAME]   copy SRC (a file or directory the node reads, e.g. on NFS) to the node's stage
                               cache before the job starts; the job finds it at $CORRAL_STAGE_NAME
                               (NAME: SRC's last component in capitals unless given; repeatable)
          --stage-checksum SRC[:NAME]
                               the same, the copy checked against SRC by SHA-256 of every file each time
                               a job uses it (not by size and modification time)
          -f, --file FILE      read the spec from a TOML file; flags override it
          --wait               wait for the job to end and exit with its exit code

        examples:
          corral submit --gpus 2 --mem 64G --name train -- python train.py --epochs 10
          corral submit --nodes 4 --gpus-per-node 8 -- torchrun --nnodes 4 --nproc-per-node 8 \\
              --rdzv-endpoint '$MASTER_ADDR:$MASTER_PORT' train.py
          corral submit --array 0-99%8 -- python sweep.py
        prints the job id (the array id for --array; its tasks are ID_0, ID_1, ...).
        """

    static var takesFreeFormArguments: Bool { true }

    static func parse(_ arguments: inout ArgumentReader) throws(UsageError) -> SubmitCommand {
        var options = SubmitOptions()
        // With no command on a terminal, `corral submit` asks for the job (never in scripts).
        let request = try JobFlags.read(&arguments, options: &options, askable: Terminal.interactive)
        return SubmitCommand(request: request, options: options)
    }

    func run(_ context: CommandContext) async throws -> Int32 {
        let client = try context.client()
        let flags = options.ask ? try SubmitPrompts.ask(request) : request
        let request = context.withDefaultNotify(try JobFlags.request(flags, options: options))
        if request.array != nil {
            let array = try await client.submitArray(request)
            context.print(array, text: array.arrayId + "\n")
            guard options.wait else { return 0 }
            // Every task: 0 when all succeeded.
            let first = try await client.job(array.arrayId)
            return try await JobWaiting.wait(for: [first], client: client, json: context.json)
        }
        let job = try await client.submit(request)
        context.print(job, text: job.id + "\n")
        guard options.wait else { return 0 }
        return try await JobWaiting.wait(for: [job], client: client, json: context.json)
    }
}
