import ClusterWire
import Foundation
import Testing

/// submitit (PyPI; `./bootstrap qa` installs it), the library ML researchers send Python functions to Slurm
/// with, against a real Corral cluster through the Slurm commands (links to the corral binary on its PATH):
/// sbatch, sacct, and srun inside the job. A function's result comes back, an array of 5 maps, and a failing
/// function raises on the client side as on Slurm.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct SubmititTests {
    static let driver = """
        import sys
        import submitit

        def add(a, b):
            return a + b

        def boom():
            raise ValueError("boom from the job")

        executor = submitit.AutoExecutor(folder=sys.argv[1], cluster="slurm")
        executor.update_parameters(timeout_min=5, slurm_partition="default", cpus_per_task=1)
        job = executor.submit(add, 2, 3)
        print("result", job.result(), "id", job.job_id, flush=True)
        jobs = executor.map_array(add, [1, 2, 3, 4, 5], [10, 20, 30, 40, 50])
        print("array", [j.result() for j in jobs], "ids", " ".join(j.job_id for j in jobs), flush=True)
        failing = executor.submit(boom)
        try:
            failing.result()
            print("no exception", flush=True)
        except Exception as error:
            print("raised", type(error).__name__, "ValueError: boom from the job" in str(error), flush=True)
        # The exception comes back as soon as the job wrote it; the job then exits with an error, as on Slurm.
        import time
        deadline = time.time() + 60
        while failing.state in ("RUNNING", "PENDING", "UNKNOWN") and time.time() < deadline:
            time.sleep(0.5)
            failing.watcher.update()
        print("state", failing.state, job.state, flush=True)

        """

    @Test func submititSendsFunctionsAnArrayAndGetsAFailureRaisedBack() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0, cpus: 8)
        try await cluster.configureCLI()
        // The links, as `just install-slurm-compat` makes them: sbatch for submitit, srun for its script.
        for tool in ["sbatch", "srun", "sacct", "squeue", "scancel"] { try cluster.slurmLink(tool) }
        let folder = cluster.root + "/submitit"
        let driver = cluster.root + "/driver.py"
        try Self.driver.write(toFile: driver, atomically: true, encoding: .utf8)
        var path = cluster.environment()
        path["PATH"] = cluster.root + "/slurm-bin:" + (path["PATH"] ?? "/usr/bin:/bin")
        let environment = path
        let result = try await offPool {
            try TestCluster.runBlocking(
                "/usr/bin/env",
                ["python3", driver, folder],
                environment,
                directory: cluster.root
            )
        }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(cluster.logs())")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("result 5 id ") == true, "\(result.stdout)\n\(result.stderr)")
        let array = lines.first { $0.hasPrefix("array ") } ?? ""
        #expect(array.hasPrefix("array [11, 22, 33, 44, 55] ids "), "\(result.stdout)")
        // The array's tasks are NUMBER_0 ... NUMBER_4, one array.
        let ids = array.split(separator: " ").suffix(5).map(String.init)
        let base = ids.first.map { String($0.prefix { $0 != "_" }) } ?? "?"
        #expect(ids == (0..<5).map { "\(base)_\($0)" }, "\(ids)")
        #expect(lines.contains("raised FailedJobError True"), "\(result.stdout)\n\(result.stderr)")
        #expect(lines.contains("state FAILED COMPLETED"), "\(result.stdout)")
        // What ran, as Corral recorded it: one job, one array of five, one failure, all through sbatch.
        let jobs = try await cluster.jobs()
        #expect(jobs.count == 3, "\(jobs.map { "\($0.id) \($0.state)" })")
        #expect(jobs.filter { $0.state == "FAILED" }.map(\.name) == ["submitit"], "\(jobs.map(\.state))")
        #expect(jobs.allSatisfy { $0.command.count > 3 && $0.command[3] == "sbatch" })
    }
}
