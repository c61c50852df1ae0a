import ClusterCore
import ClusterWire
import Testing

@testable import CLIKit

/// The pure parts of the Slurm commands: time formats, the id mapping, squeue's and sacct's output, the
/// small option parser, and what sbatch exports.
@Suite struct SlurmToolsTests {
    @Test(
        arguments: [
            ("30", 1800), ("30:00", 1800), ("1:30:00", 5400), ("2-0", 172_800), ("1-12:00", 129_600),
            ("1-12:30:15", 131_460), ("0:45", 60), ("90", 5400), ("5-00:00:00", 432_000), (" 10 ", 600),
        ] as [(String, Int)]
    )
    func slurmTimeFormats(_ text: String, _ seconds: Int) throws {
        #expect(try SlurmTime.seconds(text) == .some(seconds))
    }

    @Test func noLimitAndMalformedTimes() throws {
        for text in ["UNLIMITED", "infinite", "0", "0:00"] { #expect(try SlurmTime.seconds(text) == .some(nil)) }
        for text in ["", "abc", "1:2:3:4", "1-2-3", "-5", "1-", "1--2", "1:-2", "１０", "9999999999", "1-1:1:1:1", "1.5"]
        {
            #expect(throws: SlurmError.self, "\(text)") { try SlurmTime.seconds(text) }
        }
        #expect(SlurmTime.format(59) == "0:59" && SlurmTime.format(3600) == "1:00:00")
        #expect(SlurmTime.format(90_061) == "1-01:01:01" && SlurmTime.format(5, padded: true) == "00:00:05")
    }

    @Test func jobIDsMapOneToOneAndNothingElseMaps() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let id = JobID.random(using: &generator).rawValue
            let number = SlurmJobID.number(of: id)
            #expect(UInt64(number) != nil && SlurmJobID.corralID(number) == id)
            #expect(SlurmJobID.number(of: id + "_12") == number + "_12")
            #expect(SlurmJobID.corralID(number + "_12") == id + "_12")
        }
        #expect(SlurmJobID.number(of: "aaaaaaaabc") == "34" && SlurmJobID.corralID("34") == "aaaaaaaabc")
        #expect(SlurmJobID.corralID("k3xq9mz2ab") == "k3xq9mz2ab")
        for bad in [
            "", "12x", "1_", "_1", "1_x", "notanumber", "99999999999999999999", "1125899906842624", "-1", "1 2",
        ] {
            #expect(SlurmJobID.corralID(bad) == nil, "\(bad)")
        }
        #expect(SlurmJobID.number(of: "custom-id") == "custom-id")
    }

    static func job(_ state: JobState = .queued, reason: PendingReason? = .dependency) -> JobView {
        var job = Job(
            id: JobID("aaaaaaaabc"),
            spec: JobSpec(name: "a-long-job-name", command: ["x"], resources: Resources(gpus: 1, cpus: 2, memory: 0)),
            user: "alice",
            submittedAt: .zero
        )
        job.state = state
        job.pendingReason = reason
        if state != .queued {
            var attempt = Attempt(
                number: 1,
                node: NodeID("gpu-1"),
                gpuIndices: [0],
                resources: .zero,
                allocatedAt: .zero
            )
            attempt.startedAt = Timestamp(milliseconds: 1000)
            if state != .running {
                attempt.endedAt = Timestamp(milliseconds: 3_723_000)
                attempt.exit = JobExit(code: state == .succeeded ? 0 : 3)
            }
            job.attempts = [attempt]
        }
        return JobView(job)
    }

    @Test func squeueFormatsAsSlurmDoes() throws {
        let now = Timestamp(milliseconds: 61_000)
        let text = try SlurmReports.squeue(
            [Self.job(), Self.job(.running, reason: nil)],
            format: SlurmReports.defaultSqueueFormat,
            header: true,
            now: now
        )
        #expect(
            text == """
                             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)
                                34   default a-long-j    alice PD       0:00      1 (Dependency)
                                34   default a-long-j    alice  R       1:00      1 gpu-1

                """
        )
        #expect(
            try SlurmReports.squeue([Self.job()], format: "%i|%T|%r|%%", header: false, now: now)
                == "34|PENDING|Dependency|%\n"
        )
        #expect(throws: SlurmError.self) { try SlurmReports.squeue([], format: "%Q", header: true, now: now) }
        #expect(throws: SlurmError.self) { try SlurmReports.squeue([], format: "%.1", header: true, now: now) }
        #expect(
            SlurmReports.corralStates("PD,r") == ["ALLOCATED", "QUEUED", "RUNNING", "STARTING"]
                && SlurmReports.corralStates("XX") == nil
        )
    }

    @Test func sacctInBothParsableFormsAndColumns() throws {
        let now = Timestamp(milliseconds: 10_000_000)
        let done = Self.job(.succeeded, reason: nil)
        let failed = Self.job(.failed, reason: nil)
        let fields = "JobID,JobName,State,ExitCode,Elapsed,NodeList"
        #expect(
            try SlurmAccounting.report([done, failed], fields: fields, layout: .parsable2, header: true, now: now)
                == "JobID|JobName|State|ExitCode|Elapsed|NodeList\n34|a-long-job-name|COMPLETED|0:0|01:02:02|gpu-1\n"
                + "34|a-long-job-name|FAILED|3:0|01:02:02|gpu-1\n"
        )
        #expect(
            try SlurmAccounting.report([done], fields: "JobID,State", layout: .parsable, header: false, now: now)
                == "34|COMPLETED|\n"
        )
        let columns = try SlurmAccounting.report(
            [done],
            fields: "JobID,State%12",
            layout: .columns,
            header: true,
            now: now
        )
        #expect(columns == "JobID               State \n------------ ------------ \n34              COMPLETED \n")
        for bad in ["Nope", "JobID%0", "JobID%x", ""] {
            #expect(throws: SlurmError.self, "\(bad)") {
                try SlurmAccounting.report([done], fields: bad, layout: .columns, header: true, now: now)
            }
        }
    }

    @Test func theSmallToolsParseTheirOptionsAndRefuseOthers() throws {
        let specs: [SlurmFlags.Spec] = [.init("user", "u", value: true), .init("noheader", "h")]
        let flags = try SlurmFlags(["-ualice", "--noheader", "--user=bob,carol", "12"], specs: specs)
        #expect(flags.list("user") == ["alice", "bob", "carol"] && flags.has("noheader") && flags.words == ["12"])
        #expect(throws: SlurmError("unrecognized option '--nope'")) {
            try SlurmFlags(["--nope"], specs: specs)
        }
        #expect(throws: SlurmError.self) { try SlurmFlags(["-u"], specs: specs) }
        #expect(throws: SlurmError.self) { try SlurmFlags(["--noheader=1"], specs: specs) }
    }

    @Test func sbatchExportsTheEnvironmentButNeverCorralsOwnTheShellsOrSecrets() throws {
        let environment = [
            "PATH": "/bin", "CORRAL_TOKEN": "secret", "SLURM_JOB_ID": "7", "PWD": "/x", "MASTER_ADDR": "h",
            "BASH_FUNC_f%%": "() { :; }", "CUDA_VISIBLE_DEVICES": "0", "HOME": "/Users/me", "TMPDIR": "/var/folders/x",
            "USER": "me", "HF_TOKEN": "hf_x", "AWS_SECRET_ACCESS_KEY": "k", "SSH_AUTH_SOCK": "/tmp/ssh",
        ]
        let all = try SbatchJob.exported(nil, from: environment, gang: false)
        #expect(
            all.env == ["PATH": "/bin", "MASTER_ADDR": "h"] && all.secrets == ["AWS_SECRET_ACCESS_KEY", "HF_TOKEN"]
        )
        #expect(try SbatchJob.exported("all", from: environment, gang: true).env == ["PATH": "/bin"])
        #expect(try SbatchJob.exported("NONE", from: environment, gang: false).env == [:])
        let named = try SbatchJob.exported("PATH,HF_TOKEN,A=1", from: environment, gang: false)
        #expect(named.env == ["PATH": "/bin", "HF_TOKEN": "hf_x", "A": "1"] && named.secrets.isEmpty)
        #expect(throws: SlurmError.self) { try SbatchJob.exported("CORRAL_TOKEN=x", from: environment, gang: false) }
        #expect(throws: SlurmError.self) { try SbatchJob.exported("ALL,1BAD=2", from: environment, gang: false) }
    }

    @Test func namesSignalsAndTheSmallerMappings() throws {
        let origin = SbatchJob.Origin(cwd: "/w", host: "h", environment: ["PATH": "/bin", "GITHUB_TOKEN": "x"])
        let script = "#!/bin/sh\n#SBATCH -J nf-ALIGN_(s1) --signal=USR2@90 -t 10 --array=0-20:5 --priority=10000\n"
        let job = try SbatchJob.make(["job.sh"], origin: origin) { _ throws(SlurmError) in script }
        #expect(job.request.name == "nf-ALIGN__s1_" && job.request.env?["SLURM_JOB_NAME"] == "nf-ALIGN_(s1)")
        #expect(job.request.command[7] == "USR2", "a step signal is ignored by the batch shell")
        #expect(job.warnings.contains { $0.contains("GITHUB_TOKEN") } && job.request.env?["GITHUB_TOKEN"] == nil)
        let env = job.request.env ?? [:]
        #expect(
            env["SLURM_ARRAY_TASK_MIN"] == "0" && env["SLURM_ARRAY_TASK_MAX"] == "20"
                && env["SLURM_ARRAY_TASK_STEP"] == "5"
        )
        let batch = try SbatchJob.make(["--signal=B:USR1@30", "--wrap", "true"], origin: origin) {
            _ throws(SlurmError) in ""
        }
        #expect(batch.request.command[7] == "" && batch.request.checkpointSignal == "USR1@30")
        for bad in [
            ["--priority=10001"], ["--begin=now+1hour"], ["--test-only"], ["--dependency=:"], ["-d", "afterok:,"],
        ] {
            #expect(throws: SlurmError.self, "\(bad)") {
                try SbatchJob.make(bad + ["--wrap", "true"], origin: origin) { _ throws(SlurmError) in "" }
            }
        }
        #expect(throws: SlurmError.self) {
            try SlurmAccounting.report([], fields: "%", layout: .columns, header: true, now: .zero)
        }
        let flags = try SlurmFlags(
            ["-nPo", "JobID", "--form=State", "-M", "all"],
            specs: [
                .init("noheader", "n"), .init("parsable2", "P"), .init("format", "o", value: true),
                .init("clusters", "M", value: true),
            ]
        )
        #expect(flags.has("noheader") && flags.has("parsable2") && flags.list("format") == ["JobID", "State"])
        #expect(
            try SlurmHostList.expand("gpu[01-03,07],login,n[8-9]-ib") == [
                "gpu01", "gpu02", "gpu03", "gpu07", "login", "n8-ib", "n9-ib",
            ]
        )
        for bad in ["a[1-", "a[3-1]", "a[x]", "a[1]b[2]", "a]"] {
            #expect(throws: SlurmError.self, "\(bad)") { try SlurmHostList.expand(bad) }
        }
    }

    @Test func sbatchRefusesWhatIsNoBatchScript() {
        let origin = SbatchJob.Origin(cwd: "/w", host: "h", environment: [:])
        for (arguments, script, message) in [
            (["job.sh"], "echo no shebang\n", "#!"),
            (["job.sh"], "#!/bin/sh\n" + String(repeating: "x", count: 200_000), "too long"),
            (["--wrap", "true", "job.sh"], "#!/bin/sh\n", "--wrap"),
            (["job.sh"], "#!/bin/sh\n#SBATCH --job-name='open\n", "quote"),
            (["job.sh"], "#!/bin/sh\n#SBATCH stray\n", "stray"),
            (["job.sh"], "#!/bin/sh\r\necho\r\n", "DOS"),
        ] {
            let outcome = Result { () throws(SlurmError) in
                try SbatchJob.make(arguments, origin: origin) { _ throws(SlurmError) in script }
            }
            guard case .failure(let error) = outcome else {
                Issue.record("\(arguments) was accepted")
                continue
            }
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func sbatchHoldSubmitsTheJobHeld() throws {
        let origin = SbatchJob.Origin(cwd: "/w", host: "h", environment: [:])
        for arguments in [["-H", "job.sh"], ["--hold", "job.sh"]] {
            let job = try SbatchJob.make(arguments, origin: origin) { _ throws(SlurmError) in "#!/bin/sh\ntrue\n" }
            #expect(job.request.hold == true, "\(arguments)")
        }
        let plain = try SbatchJob.make(["job.sh"], origin: origin) { _ throws(SlurmError) in "#!/bin/sh\ntrue\n" }
        #expect(plain.request.hold == nil)
    }

    @Test func srunInsideAJobBecomesThisNodesTasks() throws {
        let env = [
            "SLURM_JOB_ID": "34", "SLURM_JOB_NAME": "train", "SLURM_NNODES": "2", "SLURM_NODEID": "1",
            "SLURMD_NODENAME": "gpu-2", "SLURM_OPEN_MODE": "a",
        ]
        let one = try Srun.step(
            ["--unbuffered", "--output", "/o/%x-%j_%t_%n.out", "python", "-u", "x.py"],
            environment: env
        )
        #expect(one.command == ["python", "-u", "x.py"] && one.warnings.isEmpty)
        #expect(
            one.script == "export SLURM_PROCID=1 SLURM_LOCALID=0 SLURM_NTASKS=2 SLURM_NPROCS=2 SLURM_STEP_ID=0 "
                + "SLURM_STEPID=0 SLURM_STEP_NUM_TASKS=2 SLURM_STEP_NUM_NODES=2; exec \"$@\" >>'/o/train-34_1_1.out' 2>&1"
        )
        // -n 4 over 2 nodes: ranks 2 and 3 here, each with its own files, the highest exit code returned.
        let two = try Srun.step(
            ["-n", "4", "-o", "it's-%t", "-e", "err-%t", "--label", "./a.out", "-n", "9"],
            environment: env
        )
        #expect(two.command == ["./a.out", "-n", "9"] && two.warnings.count == 1)
        #expect(
            two.script.contains("SLURM_PROCID=2 SLURM_LOCALID=0")
                && two.script.contains("SLURM_PROCID=3 SLURM_LOCALID=1")
        )
        #expect(two.script.contains(">>'it'\\''s-3' 2>>'err-3'") && two.script.hasSuffix("exit $rc"))
        // -N 1 runs on the first node only; -n 3 over 2 nodes leaves node 1 one task (rank 2).
        #expect(try Srun.step(["-N1", "-n1", "hostname"], environment: env).script == "exit 0")
        let three = try Srun.step(["-n", "3", "--chdir", "/w d", "-c", "4", "x"], environment: env)
        #expect(three.script.hasPrefix("cd '/w d' || exit 1; export SLURM_PROCID=2 SLURM_LOCALID=0 SLURM_NTASKS=3 "))
        #expect(
            three.warnings == ["--cpus-per-task is ignored inside a job: its allocation and this node's tasks apply"]
        )
        for bad in [
            [], ["--pty", "bash"], ["--ntasks-per-node=0", "x"], ["--open-mode=sometimes", "x"], ["--bogus", "x"],
        ] {
            #expect(throws: SlurmError.self, "\(bad)") { try Srun.step(bad, environment: env) }
        }
    }

    @Test func srunOutsideAJobSubmitsTheCommandItself() throws {
        let origin = SbatchJob.Origin(cwd: "/w", host: "h", environment: ["PATH": "/bin"])
        let (request, warnings) = try Srun.submission(
            ["-c", "4", "-t", "10", "--mpi=pmix", "nvidia-smi", "-L"],
            origin: origin
        )
        #expect(request.command == ["nvidia-smi", "-L"] && request.cpus == 4 && request.timeLimit == 600)
        #expect(
            request.name == "nvidia-smi" && request.env?["PATH"] == "/bin"
                && warnings == ["--mpi is ignored outside a job"]
        )
        #expect(throws: SlurmError.self) { try Srun.submission(["-o", "x", "true"], origin: origin) }
        #expect(throws: SlurmError.self) { try Srun.submission(["-c", "0", "true"], origin: origin) }
    }
}
