import Foundation
import Testing

@testable import CLIKit

/// The shell prologue of sbatch jobs, run by the real /bin/sh as a job would run it (`sh -c PROLOGUE sbatch
/// OUTPUT ERROR MODE STEP-SIGNAL SCRIPT ARGS`), with the variables the agent sets: files where the patterns
/// say, hostile patterns taken literally, append mode, a bad TMPDIR, the step signal ignored.
@Suite struct SbatchPrologueTests {
    struct Run {
        let status: Int32
        let directory: String
        func read(_ name: String) -> String {
            (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "<none>"
        }
        var files: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }
    }

    func run(
        _ output: String,
        _ error: String,
        mode: String = "truncate",
        signal: String = "",
        script: String,
        arguments: [String] = [],
        env: [String: String] = [:],
        in directory: String? = nil
    ) throws -> Run {
        let directory = directory ?? NSTemporaryDirectory() + "prologue-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", SbatchPrologue.text, "sbatch", output, error, mode, signal, script] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ["PATH": "/usr/bin:/bin", "CORRAL_JOB_ID": "aaaaaaaabc", "SLURM_JOB_NAME": "my job"]
            .merging(env) { $1 }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, directory: directory)
    }

    @Test func theScriptRunsWithSlurmsVariablesAndItsFilesWhereThePatternsSay() throws {
        let script = "#!/bin/sh\necho \"$SLURM_JOB_ID $SLURM_PROCID $SLURM_JOB_USER $# $1\"\necho oops >&2\n"
        let first = try run("out %x-%j.txt", "err-%j-%%-%Q-%", script: script, arguments: ["a b", "c"])
        #expect(first.status == 0)
        #expect(first.read("out my job-34.txt") == "34 0 \(NSUserName()) 2 a b\n", "\(first.files)")
        #expect(first.read("err-34-%-%Q-%") == "oops\n", "\(first.files)")
        // Append mode keeps what was there; truncate does not.
        _ = try run("out %x-%j.txt", "out %x-%j.txt", mode: "append", script: script, in: first.directory)
        #expect(first.read("out my job-34.txt") == "34 0 \(NSUserName()) 2 a b\n34 0 \(NSUserName()) 0 \noops\n")
        _ = try run("out %x-%j.txt", "out %x-%j.txt", script: "#!/bin/sh\necho new\n", in: first.directory)
        #expect(first.read("out my job-34.txt") == "new\n")
    }

    @Test func hostilePatternsAreNamesNotCommands() throws {
        let run = try run("$(touch pwned)'\"`touch pwned2`\";x", "-n \\c", script: "#!/bin/sh\necho hi\necho e >&2\n")
        #expect(run.status == 0)
        #expect(run.files == ["$(touch pwned)'\"`touch pwned2`\";x", "-n \\c"], "\(run.files)")
        #expect(run.read("-n \\c") == "e\n")
    }

    @Test func aBadTmpdirFallsBackAndAnInterpreterOfAnyKindRuns() throws {
        let python = "#!/usr/bin/env python3\nimport os, sys\nprint(sys.argv[1:], os.environ['SLURM_JOB_ID'])\n"
        let run = try run("o", "o", script: python, arguments: ["x"], env: ["TMPDIR": "/nonexistent/dir"])
        #expect(run.status == 0 && run.read("o") == "['x'] 34\n", "\(run.read("o"))")
        // A script with no newline at all still runs; one with no interpreter fails.
        #expect(try self.run("o", "o", script: "#!/bin/true").status == 0)
        #expect(try self.run("o", "o", script: "#!").status != 0)
    }

    @Test func aStepSignalLeavesTheBatchShellAliveAndAnArrayTaskNamesItself() throws {
        let script = "#!/bin/sh\nkill -USR1 $$\necho alive $SLURM_JOB_ID $SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID\n"
        let env = ["CORRAL_JOB_ID": "aaaaaaaabc_3", "CORRAL_ARRAY_JOB_ID": "aaaaaaaabc", "CORRAL_ARRAY_TASK_ID": "3"]
        let ignored = try run("%A_%a.out", "%A_%a.out", signal: "USR1", script: script, env: env)
        #expect(ignored.status == 0 && ignored.read("34_3.out") == "alive 34_3 34 3\n", "\(ignored.files)")
        let killed = try run("o", "o", script: script)
        #expect(killed.status != 0 && killed.read("o") == "")
    }
}
