import ClusterWire
import Foundation
import Glibc
import LinuxSystem
import Testing

/// Slurm's commands on a real cluster (issue 21): links named sbatch, squeue, sacct, scontrol and scancel to
/// the real corral binary, a real controller and agent (declared GPUs: no GPU here), scripts that write where
/// Slurm would, and the tools' output parsed the way Slurm's clients parse it.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct SlurmCompatTests {
    func cluster() async throws -> (TestCluster, String) {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 2, cpus: 8)
        try await cluster.configureCLI()
        let work = cluster.root + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return (cluster, work)
    }

    /// sacct -P -n -o JobID,State,ExitCode rows until every one of `count` is final, as a dictionary.
    func finalStates(
        _ cluster: TestCluster,
        _ id: String,
        count: Int = 1,
        timeout: Double = 60
    ) async throws -> [String: String] {
        let final: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"]
        let deadline = Date().addingTimeInterval(timeout)
        var rows: [String: String] = [:]
        while Date() < deadline {
            let result = try await cluster.slurm("sacct", ["-j", id, "-P", "-n", "-o", "JobID,State,ExitCode"])
            #expect(result.status == 0, "\(result.stderr)")
            rows = [:]
            for line in result.stdout.split(separator: "\n") {
                let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                if fields.count == 3 { rows[fields[0]] = fields[1] + " " + fields[2] }
            }
            if rows.count == count && rows.values.allSatisfy({ final.contains(String($0.prefix { $0 != " " })) }) {
                return rows
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("\(id) did not end: \(rows)\n\(cluster.logs())")
    }

    @Test func aBatchScriptRunsWithSlurmsVariablesAndWritesItsOutputWhereSlurmWould() async throws {
        let (cluster, work) = try await cluster()
        let script = """
            #!/bin/sh
            #SBATCH --job-name=hello
            #SBATCH --output=out-%x-%j.txt
            #SBATCH --time=5
            #SBATCH -c 2
            #SBATCH --account=ignored
            echo "job=$SLURM_JOB_ID name=$SLURM_JOB_NAME cpus=$SLURM_CPUS_PER_TASK procid=$SLURM_PROCID arg=$1"
            echo "submit=$SLURM_SUBMIT_DIR pwd=$(pwd) token=${CORRAL_TOKEN:-none}"
            echo oops >&2

            """
        try script.write(toFile: work + "/job.sh", atomically: true, encoding: .utf8)
        let submitted = try await cluster.slurm("sbatch", ["job.sh", "world"], in: work)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stderr.contains("sbatch: warning: --account is ignored"), "\(submitted.stderr)")
        let line = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.hasPrefix("Submitted batch job "), "\(line)")
        let number = String(line.dropFirst("Submitted batch job ".count))
        #expect(UInt64(number) != nil, "not a number: \(number)")
        // Editing the script after sbatch changes nothing: the job keeps what was submitted.
        try "#!/bin/sh\necho edited\n".write(toFile: work + "/job.sh", atomically: true, encoding: .utf8)
        let rows = try await finalStates(cluster, number)
        #expect(rows[number] == "COMPLETED 0:0", "\(rows)")
        let output = cluster.read(work + "/out-hello-\(number).txt")
        #expect(output.contains("job=\(number) name=hello cpus=2 procid=0 arg=world"), "\(output)")
        #expect(output.contains("submit=\(work) pwd=\(work) token=none"), "\(output)")
        #expect(output.contains("oops") && !output.contains("edited"), "\(output)")
        let shown = try await cluster.slurm("scontrol", ["show", "job", number])
        #expect(shown.status == 0, "\(shown.stderr)")
        for field in [
            "JobId=\(number)", "JobState=COMPLETED", "ExitCode=0:0", "NodeList=node",
            "StdOut=\(work)/out-hello-\(number).txt",
        ] {
            #expect(shown.stdout.contains(field), "\(field) missing:\n\(shown.stdout)")
        }
        // The Corral job behind the number is the same one.
        let jobs = try await cluster.jobs()
        #expect(jobs.count == 1 && jobs.first?.name == "hello")
    }

    @Test func anArrayAndADependencyChainThroughSbatchAloneWithSqueueAndSacct() async throws {
        let (cluster, work) = try await cluster()
        let array = try await cluster.slurm(
            "sbatch",
            [
                "--parsable", "--array=0-3", "-t", "2",
                "--wrap",
                // The tasks wait for the test's go-ahead, so the chained job is surely still waiting when squeue
                // looks, however slow a loaded machine is.
                "while [ ! -f go ]; do sleep 0.1; done; echo task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID > t-$SLURM_ARRAY_TASK_ID.txt",
            ],
            in: work
        )
        #expect(array.status == 0, "\(array.stderr)")
        let arrayID = array.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let chained = try await cluster.slurm(
            "sbatch",
            ["--parsable", "-d", "afterok:\(arrayID)", "-J", "gather", "--wrap", "cat t-*.txt > all.txt"],
            in: work
        )
        #expect(chained.status == 0, "\(chained.stderr)")
        let gather = chained.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // squeue as scripts read it: no header, a format of their own.
        let queue = try await cluster.slurm("squeue", ["-h", "-o", "%i|%j|%T|%r", "-j", gather])
        #expect(queue.status == 0, "\(queue.stderr)")
        #expect(queue.stdout == "\(gather)|gather|PENDING|Dependency\n", "\(queue.stdout)")
        #expect(FileManager.default.createFile(atPath: work + "/go", contents: nil))
        let tasks = try await finalStates(cluster, arrayID, count: 4)
        #expect(tasks == Dictionary(uniqueKeysWithValues: (0..<4).map { ("\(arrayID)_\($0)", "COMPLETED 0:0") }))
        let last = try await finalStates(cluster, gather)
        #expect(last[gather] == "COMPLETED 0:0", "\(last)")
        let all = cluster.read(work + "/all.txt")
        #expect(all == (0..<4).map { "task \($0) of \(arrayID)" }.joined(separator: "\n"), "\(all)")
        #expect(FileManager.default.fileExists(atPath: work + "/slurm-\(arrayID)_2.out"))
        let idle = try await cluster.slurm("squeue", [])
        #expect(
            idle.stdout.hasPrefix(
                "             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)"
            )
        )
        #expect(idle.stdout.split(separator: "\n").count == 1, "\(idle.stdout)")
    }

    @Test func scancelStopsAJobAndBadInputChangesNothing() async throws {
        let (cluster, work) = try await cluster()
        // Long enough to outlast the test's dozen calls on a loaded machine; canceled below.
        let long = try await cluster.slurm("sbatch", ["--parsable", "--wrap", "sleep 600"], in: work)
        let id = long.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let corralID = try #require(try await cluster.jobs().first?.id)
        _ = try await cluster.waitForState(corralID, ["RUNNING"])
        let running = try await cluster.slurm("squeue", ["-h", "-o", "%i %t %N"])
        #expect(running.stdout == "\(id) R node\n", "\(running.stdout)")
        // sinfo as scripts read it: the default queue's one node, partly used.
        let info = try await cluster.slurm("sinfo", ["-h", "-o", "%P|%D|%t|%N"])
        #expect(info.stdout == "default*|1|mix|node\n", "\(info.stdout) \(info.stderr)")
        let byNode = try await cluster.slurm("sinfo", ["-N"])
        #expect(byNode.stdout.split(separator: "\n").last?.split(separator: " ") == ["node", "1", "default*", "mix"])
        // By name, as scancel -n does: only that job.
        let named = try await cluster.slurm("sbatch", ["--parsable", "-J", "named", "--wrap", "sleep 60"], in: work)
        let namedID = named.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let byName = try await cluster.slurm("scancel", ["-n", "named"])
        #expect(byName.status == 0, "\(byName.stderr)")
        let namedRows = try await finalStates(cluster, namedID)
        #expect(namedRows[namedID]?.hasPrefix("CANCELLED") == true, "\(namedRows)")
        let stillRunning = try await cluster.slurm("squeue", ["-h", "-o", "%i"])
        #expect(stillRunning.stdout == "\(id)\n", "\(stillRunning.stdout)")
        let canceled = try await cluster.slurm("scancel", [id])
        #expect(canceled.status == 0, "\(canceled.stderr)")
        let rows = try await finalStates(cluster, id)
        #expect(rows[id]?.hasPrefix("CANCELLED") == true, "\(rows)")
        for bad in [
            ["--frobnicate=1", "--wrap", "true"], ["--time=1:2:3:4", "--wrap", "true"],
            ["-d", "afterany:1", "--wrap", "true"], ["-G", "3", "-N", "2", "--wrap", "true"], ["missing.sh"],
        ] {
            let result = try await cluster.slurm("sbatch", bad, in: work)
            #expect(result.status == 1 && result.stderr.hasPrefix("sbatch: error: "), "\(bad): \(result.stderr)")
        }
        let unknown = try await cluster.slurm("scancel", ["12345678"])
        #expect(unknown.status == 1 && unknown.stderr.contains("scancel: error:"), "\(unknown.stderr)")
        // -W waits and exits with the job's code.
        let waited = try await cluster.slurm("sbatch", ["-W", "--wrap", "exit 3"], in: work)
        #expect(
            waited.status == 3 && waited.stdout.hasPrefix("Submitted batch job "),
            "\(waited.stdout) \(waited.stderr)"
        )
        let jobs = try await cluster.jobs()
        #expect(jobs.count == 3, "bad input submitted something: \(jobs.map(\.name))")
    }

    /// As root only (real Unix accounts): the output file is written by the job itself, as the token's account,
    /// in that account's own directory, where Slurm's would be.
    @Test func theOutputFileBelongsToTheJobsUser() async throws {
        guard getuid() == 0 else { return }
        let setup = try await IdentityTests.setUp()
        let (cluster, alice) = (setup.cluster, setup.alice)
        let directory = setup.work + "/alice"
        let submitted = try await cluster.slurm(
            "sbatch",
            ["--parsable", "-o", "%u-%j.log", "--wrap", "id -un; echo $SLURM_JOB_USER"],
            in: directory,
            env: ["CORRAL_TOKEN": setup.aliceToken, "CORRAL_ENDPOINT": cluster.endpoint]
        )
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let number = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let rows = try await finalStates(cluster, number)
        #expect(rows[number] == "COMPLETED 0:0", "\(rows)")
        let path = directory + "/\(alice.name)-\(number).log"
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_uid == alice.uid, "\(path) is not alice's")
        #expect(cluster.read(path) == "\(alice.name)\n\(alice.name)", "\(cluster.read(path))")
    }
}
