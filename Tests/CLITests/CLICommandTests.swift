import ClusterWire
import CorralSupport
import Foundation
import Testing

@testable import CLIKit

@Suite struct CLICommandTests {
    static func parse(_ arguments: [String]) throws(CLIError) -> (any CorralCommand, GlobalOptions) {
        try CLICommand.parse(arguments)
    }

    static func command(_ arguments: [String]) throws(CLIError) -> any CorralCommand { try parse(arguments).0 }

    /// The usage error a command line is refused with (nil, and an issue, when it is accepted).
    static func usageError(_ arguments: [String]) -> CLIError? {
        do {
            let parsed = try parse(arguments)
            Issue.record("\(arguments) parsed as \(parsed.0)")
            return nil
        } catch {
            #expect(error.exitCode == 2, "usage errors exit with 2")
            #expect(error.code == "usage")
            #expect(error.message.hasSuffix("run corral --help for usage"))
            #expect(error.description == error.message)
            return error
        }
    }

    static func submitted(_ arguments: [String]) throws -> SubmitJobRequest {
        guard let submit = try command(["submit"] + arguments) as? SubmitCommand else {
            Issue.record("not a submit")
            return SubmitJobRequest(command: [])
        }
        return submit.request
    }

    // MARK: Commands

    @Test func noArgumentsIsHelp() throws {
        let (command, globals) = try Self.parse([])
        #expect(command as? HelpCommand == HelpCommand(topic: nil))
        #expect(globals == GlobalOptions())
    }

    @Test func help() throws {
        #expect(try Self.command(["help"]) as? HelpCommand == HelpCommand(topic: nil))
        #expect(try Self.command(["--help"]) as? HelpCommand == HelpCommand(topic: nil))
        #expect(try Self.command(["-h"]) as? HelpCommand == HelpCommand(topic: nil))
        #expect(try Self.command(["help", "submit"]) as? HelpCommand == HelpCommand(topic: "submit"))
        #expect(try Self.command(["submit", "--help"]) as? HelpCommand == HelpCommand(topic: "submit"))
        #expect(try Self.command(["ls", "-h"]) as? HelpCommand == HelpCommand(topic: "ls"))
        #expect(try Self.command(["--json", "help"]) as? HelpCommand == HelpCommand(topic: nil))
    }

    @Test func version() throws {
        #expect(try Self.command(["version"]) as? VersionCommand == VersionCommand())
        #expect(try Self.command(["--version"]) as? VersionCommand == VersionCommand())
    }

    @Test func configure() throws {
        #expect(try Self.command(["configure"]) as? ConfigureCommand == ConfigureCommand(tokenFile: nil, caFile: nil))
        #expect(
            try Self.command(["configure", "--ca-file", "/etc/corral/ca.pem"]) as? ConfigureCommand
                == ConfigureCommand(tokenFile: nil, caFile: "/etc/corral/ca.pem")
        )
        // --endpoint and --token are global flags: they arrive through the globals, which configure reads.
        let (command, globals) = try Self.parse(["configure", "--endpoint", "https://c:8700", "--token", "crl_x"])
        #expect(command as? ConfigureCommand == ConfigureCommand(tokenFile: nil, caFile: nil))
        #expect(globals.endpoint == "https://c:8700")
        #expect(globals.token == "crl_x")
        #expect(
            try Self.command(["configure", "--token-file", "/home/ana/token"]) as? ConfigureCommand
                == ConfigureCommand(tokenFile: "/home/ana/token", caFile: nil)
        )
        #expect(try Self.command(["configure", "--no-verify"]) as? ConfigureCommand == ConfigureCommand(verify: false))
        // "--token -" is a value like any other here; configure reads stdin when it runs.
        #expect(try Self.parse(["configure", "--token", "-"]).1.token == "-")
    }

    @Test(arguments: [
        ["configure", "--ca-file"], ["configure", "--bogus", "x"], ["configure", "stray"],
        ["configure", "--token-file"],
    ])
    func configureErrors(_ arguments: [String]) {
        #expect(Self.usageError(arguments)?.message.contains("corral configure") == true)
    }

    @Test func logs() throws {
        #expect(
            try Self.command(["logs", "j1"]) as? LogsCommand == LogsCommand(target: "j1", follow: false, tail: nil)
        )
        #expect(
            try Self.command(["logs", "-f", "--tail", "20", "j1"]) as? LogsCommand
                == LogsCommand(target: "j1", follow: true, tail: 20)
        )
        #expect(
            try Self.command(["logs", "j1", "-n", "0"]) as? LogsCommand
                == LogsCommand(target: "j1", follow: false, tail: 0)
        )
        for bad in [
            ["logs"], ["logs", "--tail", "x", "j1"], ["logs", "--tail", "-1", "j1"], ["logs", "j1", "--tail"],
        ] {
            #expect(Self.usageError(bad)?.message.contains("corral logs") == true, "\(bad)")
        }
    }

    @Test func list() throws {
        #expect(try Self.command(["ls"]) as? ListCommand == ListCommand(all: false, states: [], user: nil))
        #expect(try Self.command(["ps"]) as? ListCommand == ListCommand(all: false, states: [], user: nil))
        #expect(try Self.command(["ls", "-a"]) as? ListCommand == ListCommand(all: true, states: [], user: nil))
        #expect(
            try Self.command(["ls", "--all", "--user", "bob"]) as? ListCommand
                == ListCommand(all: true, states: [], user: "bob")
        )
        #expect(
            try Self.command(["ls", "--state", "running,queued"]) as? ListCommand
                == ListCommand(all: false, states: ["RUNNING", "QUEUED"], user: nil)
        )
        #expect(
            try Self.command(["ls", "--state", "FAILED", "--state", "lost"]) as? ListCommand
                == ListCommand(all: false, states: ["FAILED", "LOST"], user: nil)
        )
        #expect(
            try Self.command(["ls", "--state", "Canceled,"]) as? ListCommand
                == ListCommand(all: false, states: ["CANCELED"], user: nil)
        )
    }

    @Test func listErrors() {
        let bogus = Self.usageError(["ls", "--state", "bogus"])
        #expect(bogus?.message.contains("unknown state 'bogus'") == true)
        #expect(bogus?.message.contains("running") == true)
        #expect(Self.usageError(["ls", "--state", "running,nope"])?.message.contains("'nope'") == true)
        #expect(Self.usageError(["ls", "--state"])?.message.contains("--state needs a value") == true)
        #expect(Self.usageError(["ls", "--user"])?.message.contains("--user needs a value") == true)
        #expect(Self.usageError(["ls", "--bogus"])?.message.contains("unknown option '--bogus'") == true)
        #expect(Self.usageError(["ls", "extra"]) != nil)
    }

    @Test func show() throws {
        #expect(try Self.command(["show", "k3xq9mz2ab"]) as? ShowCommand == ShowCommand(target: "k3xq9mz2ab"))
        #expect(try Self.command(["show", "3"]) as? ShowCommand == ShowCommand(target: "3"))
        #expect(Self.usageError(["show"])?.message.contains("usage: corral show JOB") == true)
        #expect(Self.usageError(["show", "a", "b"])?.message.contains("usage: corral show JOB") == true)
        #expect(Self.usageError(["show", "-x"]) != nil)
    }

    @Test func cancel() throws {
        #expect(try Self.command(["cancel", "a"]) as? CancelCommand == CancelCommand(targets: ["a"], yes: false))
        #expect(
            try Self.command(["cancel", "a", "b", "c"]) as? CancelCommand
                == CancelCommand(targets: ["a", "b", "c"], yes: false)
        )
        #expect(Self.usageError(["cancel"])?.message.contains("usage: corral cancel TARGET") == true)
        #expect(Self.usageError(["cancel", "a", "--force"]) != nil)
    }

    @Test func exec() throws {
        let parsed = try Self.command(["exec", "abc", "--", "nvidia-smi", "-L"]) as? ExecCommand
        #expect(parsed?.job == "abc" && parsed?.command == ["nvidia-smi", "-L"] && parsed?.rank == nil)
        let ranked = try Self.command(["exec", "abc", "--rank", "0", "ls", "-la"]) as? ExecCommand
        #expect(ranked?.rank == 0 && ranked?.command == ["ls", "-la"])
        #expect(Self.usageError(["exec"]) != nil)
        #expect(Self.usageError(["exec", "abc"]) != nil)
        #expect(Self.usageError(["exec", "abc", "--"]) != nil)
        #expect(Self.usageError(["exec", "-t", "abc", "--", "sh"])?.message.contains("without a terminal") == true)
        #expect(Self.usageError(["exec", "abc", "--rank", "-1", "--", "sh"]) != nil)
        #expect(Self.usageError(["exec", "abc", "--bogus", "--", "sh"]) != nil)
    }

    @Test func tokensCreateWithAUnixAccount() throws {
        let parsed = try Self.command(["tokens", "create", "--user", "ana", "--unix-user", "ana2"]) as? TokensCommand
        #expect(parsed?.action == .create(user: "ana", admin: false, expiresIn: nil, unixUser: "ana2"))
        #expect(Self.usageError(["tokens", "create", "--user", "ana", "--unix-user"]) != nil)
    }

    @Test func nodesUpdate() throws {
        var options = NodesCommand.UpdateOptions()
        #expect(try Self.command(["nodes", "update"]) as? NodesCommand == NodesCommand(action: .update(options)))
        options.version = "1.4.0"
        options.maxParallel = 8
        options.nodes = ["a", "b"]
        options.wait = false
        #expect(
            try Self.command([
                "nodes", "update", "--version", "1.4.0", "--max-parallel", "8", "--node", "a", "--node", "b",
                "--no-wait",
            ])
                as? NodesCommand == NodesCommand(action: .update(options))
        )
        for (words, message) in [
            (["nodes", "update", "--max-parallel", "0"], "--max-parallel takes 1-1000"),
            (["nodes", "update", "--max-parallel", "lots"], "--max-parallel takes 1-1000"),
            (["nodes", "update", "--version"], "--version needs a value"),
            (["nodes", "update", "--status", "--abort"], "--status and --abort take no other flag"),
            (["nodes", "update", "--abort", "--version", "1"], "--status and --abort take no other flag"),
            (["nodes", "update", "--frob"], "usage: corral nodes"),
        ] {
            #expect(
                Self.usageError(words)?.message.contains(message) == true,
                "\(words): \(Self.usageError(words)?.message ?? "")"
            )
        }
    }

    @Test func nodes() throws {
        #expect(try Self.command(["nodes"]) as? NodesCommand == NodesCommand(action: .list))
        #expect(Self.usageError(["nodes", "gpu-1"])?.message.contains("usage: corral nodes") == true)
        #expect(
            try Self.command(["nodes", "approve", "gpu-1"]) as? NodesCommand
                == NodesCommand(action: .approve(node: "gpu-1", rejoin: false))
        )
        for words in [["nodes", "approve", "gpu-1", "--rejoin"], ["nodes", "approve", "--rejoin", "gpu-1"]] {
            #expect(
                try Self.command(words) as? NodesCommand == NodesCommand(action: .approve(node: "gpu-1", rejoin: true))
            )
        }
        for words in [
            ["nodes", "approve"], ["nodes", "approve", "--rejoin"], ["nodes", "approve", "a", "b"],
            ["nodes", "approve", "a", "--force"], ["nodes", "approve", "--rejoin", "--rejoin"],
        ] {
            #expect(
                Self.usageError(words)?.message.contains("corral nodes approve NODE [--rejoin]") == true,
                "\(words)"
            )
        }
    }

    @Test(arguments: ["frobnicate", "sumbit", "LS", "rm", "-x", ""])
    func unknownCommand(_ name: String) {
        let error = Self.usageError([name])
        #expect(error?.message.contains("unknown command '\(name)'") == true)
    }

    /// Every command the usage lists is in the table (with its aliases), and the table has no command the
    /// usage or the completion scripts leave out.
    @Test func theTableHasEveryCommandOfTheUsage() {
        let section = CLI.usage.components(separatedBy: "commands:\n")[1].components(separatedBy: "\n\n")[0]
        // A command's line starts with two spaces, then its names ("ls, ps"), then two spaces or more.
        let listed = Set(
            section.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }.flatMap { line in
                line.dropFirst(2).components(separatedBy: "  ")[0].components(separatedBy: ", ")
            }
        )
        // Each name once: the table is searched in order, so a second entry would never be reached.
        let names = CLICommand.commands.map(\.key)
        #expect(Set(names).count == names.count, "\(names)")
        let named = Set(names.filter { !$0.hasPrefix("-") })
        #expect(named.subtracting(["help"]) == listed)
        #expect(Set(Completion.commands) == named, "the completion scripts offer every command")
    }

    /// The reader's grammar: values attached with `=`, and `--` before words that start with a dash.
    @Test func attachedValuesAndDashDash() throws {
        #expect(try Self.command(["ls", "--state=running"]) as? ListCommand == ListCommand(states: ["RUNNING"]))
        #expect(try Self.command(["logs", "--tail=5", "j1"]) as? LogsCommand == LogsCommand(target: "j1", tail: 5))
        #expect(try Self.submitted(["--gpus=2", "--env=A=b", "--", "x"]).gpus == 2)
        #expect(try Self.submitted(["--env=A=b", "x"]).env == ["A": "b"])
        #expect(try Self.command(["cancel", "--", "a"]) as? CancelCommand == CancelCommand(targets: ["a"]))
        #expect(Self.usageError(["ls", "--all=yes"])?.message.hasPrefix("--all takes no value") == true)
        #expect(Self.usageError(["--json=1", "ls"])?.message.hasPrefix("--json takes no value") == true)
        #expect(Self.usageError(["submit", "-5"])?.message.contains("unknown option '-5' for submit") == true)
    }

    // MARK: Global options

    @Test(arguments: [
        ["--json", "ls"], ["ls", "--json"], ["ls", "--state", "running", "--json"], ["ls", "--json", "--all"],
    ])
    func jsonAnywhere(_ arguments: [String]) throws {
        let (command, globals) = try Self.parse(arguments)
        #expect(globals.json)
        #expect(command is ListCommand, "\(command)")
    }

    @Test func endpointAndToken() throws {
        let (_, a) = try Self.parse(["--endpoint=https://ctl.example:8700", "ls"])
        #expect(a.endpoint == "https://ctl.example:8700")
        let (_, b) = try Self.parse(["ls", "--endpoint", "http://127.0.0.1:8700", "--token", "crl_secret"])
        #expect(b.endpoint == "http://127.0.0.1:8700")
        #expect(b.token == "crl_secret")
        let (_, c) = try Self.parse(["--token=abc=def", "nodes"])
        #expect(c.token == "abc=def")
        let (_, d) = try Self.parse(["--token", "first", "--token", "second", "nodes"])
        #expect(d.token == "second")
        #expect(!d.json)
    }

    @Test(arguments: [["--token"], ["ls", "--token"], ["ls", "--endpoint"], ["--endpoint"]])
    func globalFlagWithoutValue(_ arguments: [String]) {
        #expect(Self.usageError(arguments)?.message.contains("needs a value") == true)
    }

    // MARK: submit

    @Test func submitWithDashDash() throws {
        let request = try Self.submitted([
            "--gpus", "2", "--cpus", "16", "--mem", "32G", "--name", "train", "--queue", "long", "--gpu-type", "H100",
            "--cwd", "/data", "--", "python", "train.py", "--epochs", "10",
        ])
        #expect(request.command == ["python", "train.py", "--epochs", "10"])
        #expect(request.gpus == 2 && request.cpus == 16)
        #expect(request.memory == ByteCount(32 << 30))
        #expect(request.name == "train" && request.queue == "long" && request.gpuType == "H100")
        #expect(request.cwd == "/data")
    }

    @Test func submitWithoutDashDash() throws {
        let request = try Self.submitted(["--gpus", "1", "nvidia-smi", "-L"])
        #expect(request.command == ["nvidia-smi", "-L"])
        #expect(request.gpus == 1)
        let bare = try Self.submitted(["echo", "hello", "world"])
        #expect(bare.command == ["echo", "hello", "world"])
        #expect(bare.gpus == nil && bare.memory == nil && bare.env == nil)
    }

    @Test func submitCommandMayLookLikeFlagsAfterDashDash() throws {
        let (command, globals) = try Self.parse(["submit", "--", "python", "x.py", "--json", "--token", "t", "-h"])
        #expect(
            command as? SubmitCommand
                == SubmitCommand(
                    request: try Self.submitted(["--", "python", "x.py", "--json", "--token", "t", "-h"]),
                    options: SubmitOptions()
                )
        )
        #expect((command as? SubmitCommand)?.request.command == ["python", "x.py", "--json", "--token", "t", "-h"])
        #expect(!globals.json && globals.token == nil)
        #expect(try Self.submitted(["--", "--weird-program"]).command == ["--weird-program"])
        #expect(try Self.submitted(["--", "a", "--", "b"]).command == ["a", "--", "b"])
    }

    /// Without `--`, everything from the first non-flag word is the job's command, so its own flags belong to it.
    @Test func submitCommandFlagsWithoutDashDashBelongToTheCommand() throws {
        do {
            let (command, globals) = try Self.parse(["submit", "python", "train.py", "--json", "--token", "t"])
            #expect(
                command as? SubmitCommand
                    == SubmitCommand(
                        request: try Self.submitted(["--", "python", "train.py", "--json", "--token", "t"]),
                        options: SubmitOptions()
                    )
            )
            #expect(!globals.json && globals.token == nil)
            #expect(try Self.command(["submit", "python", "train.py", "--help"]) as? HelpCommand == nil)
        }
    }

    @Test func submitDefaultsCwdToTheCurrentDirectory() throws {
        let request = try Self.submitted(["--", "true"])
        #expect(request.cwd == FileManager.default.currentDirectoryPath)
        #expect(request.cwd?.hasPrefix("/") == true)
    }

    @Test func submitRepeatedEnvLabelsAndAfter() throws {
        let request = try Self.submitted([
            "--env", "A=1", "-e", "B=x=y", "--env", "A=2", "--env", "EMPTY=", "--label", "zone=eu", "--label",
            "ib=yes", "--after", "job1", "--after", "job2", "--", "run",
        ])
        #expect(request.env == ["A": "2", "B": "x=y", "EMPTY": ""])
        #expect(request.labels == ["zone": "eu", "ib": "yes"])
        #expect(request.dependsOn == ["job1", "job2"])
    }

    @Test func submitStages() throws {
        let request = try Self.submitted([
            "--stage", "/nfs/models/llama-3", "--stage-checksum", "/nfs/data/shard:DATA", "--", "run",
        ])
        #expect(
            request.stage == [
                StageRequest(source: "/nfs/models/llama-3", name: "LLAMA_3"),
                StageRequest(source: "/nfs/data/shard", name: "DATA", checksum: true),
            ]
        )
    }

    @Test func submitNumbers() throws {
        let request = try Self.submitted([
            "--retries", "3", "--priority", "-5", "--image", "ubuntu:24.04", "-q", "q1", "--memory", "512M", "--", "x",
        ])
        #expect(request.maxRetries == 3 && request.priority == -5)
        #expect(request.image == "ubuntu:24.04" && request.queue == "q1")
        #expect(request.memory?.bytes == 512 << 20)
    }

    @Test(arguments: [
        ("2h", 7200), ("90s", 90), ("30m", 1800), ("1d", 86_400), ("3600", 3600), ("1", 1),
    ])
    func submitTimeLimit(_ text: String, _ seconds: Int) throws {
        #expect(try Self.submitted(["--time-limit", text, "--", "x"]).timeLimit == seconds)
        #expect(try Self.submitted(["-t", text, "x"]).timeLimit == seconds)
    }

    @Test(arguments: ["0", "x", "-5", "2.5h", "h", "", "0s", "10w", "1 h", "-1d", "99999999999999999999"])
    func submitBadTimeLimit(_ text: String) {
        let error = Self.usageError(["submit", "--time-limit", text, "--", "x"])
        #expect(error?.message.contains("--time-limit takes seconds") == true)
    }

    @Test(arguments: [("0", 0), ("30s", 30), ("2m", 120), ("45", 45)])
    func submitKillGrace(_ text: String, _ seconds: Int) throws {
        #expect(try Self.submitted(["--kill-grace", text, "--", "x"]).killGrace == seconds)
    }

    @Test(arguments: ["x", "-5", "", "0s", "1.5m", "10w"])
    func submitBadKillGrace(_ text: String) {
        let error = Self.usageError(["submit", "--kill-grace", text, "--", "x"])
        #expect(error?.message.contains("--kill-grace takes seconds") == true)
    }

    /// `DurationText.seconds` multiplies without overflow checking: a huge count of days traps the CLI.
    @Test func submitHugeTimeLimitIsAUsageErrorNotATrap() async {
        do {
            await #expect(processExitsWith: .success) {
                _ = DurationText.seconds("999999999999999999d")
            }
        }
    }

    static let submitErrorCases: [([String], String)] = [
        (["--env", "NOEQUALS", "--", "x"], "--env takes KEY=VALUE"),
        (["--env", "=value", "--", "x"], "--env takes KEY=VALUE"),
        (["-e", "", "--", "x"], "-e takes KEY=VALUE"),
        (["--label", "zone", "--", "x"], "--label takes KEY=VALUE"),
        (["--stage", "relative/path", "--", "x"], "--stage takes SRC or SRC:NAME"),
        (["--stage", "/nfs/x:lower", "--", "x"], "--stage takes SRC or SRC:NAME"),
        (["--stage-checksum", "/nfs/../etc", "--", "x"], "--stage-checksum takes SRC or SRC:NAME"),
        (["--mem", "lots", "--", "x"], "--mem takes a size"),
        (["--mem", "-1G", "--", "x"], "--mem takes a size"),
        (["--mem", "32X", "--", "x"], "--mem takes a size"),
        (["--gpus", "two", "--", "x"], "--gpus takes a whole number"),
        (["--gpus", "1.5", "--", "x"], "--gpus takes a whole number"),
        (["--cpus", "", "--", "x"], "--cpus takes a whole number"),
        (["--priority", "high", "--", "x"], "--priority takes a whole number"),
        (["--gpus"], "--gpus needs a value"),
        (["--mem"], "--mem needs a value"),
        (["--env"], "--env needs a value"),
        (["--bogus", "--", "x"], "unknown option '--bogus' for submit"),
        (["--gpus", "1"], "no command to run"),
        (["--"], "no command to run"),
        ([], "no command to run"),
    ]

    @Test(arguments: submitErrorCases)
    func submitErrors(_ arguments: [String], _ expected: String) {
        let error = Self.usageError(["submit"] + arguments)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test func submitNamesTheBadValue() {
        let hostile = "'; rm -rf / #"
        let error = Self.usageError(["submit", "--gpus", hostile, "--", "x"])
        #expect(error?.message.contains(hostile) == true)
    }

    // MARK: Exit codes through main

    @Test(arguments: [
        ["frobnicate"], ["ls", "--state", "bogus"], ["show"], ["cancel"], ["submit", "--gpus", "x", "--", "y"],
        ["--json", "nodes", "extra"], ["--token"],
    ])
    func usageErrorsExitWith2(_ arguments: [String]) async {
        #expect(await CLI.main(arguments, environment: [:]) == 2)
    }

    @Test func versionExitsWith0() async {
        #expect(await CLI.main(["version"], environment: [:]) == 0)
        #expect(await CLI.main(["help", "submit"], environment: [:]) == 0)
    }

    // MARK: Done before the concurrency runtime starts (CLI.start)

    /// What `main.swift` finishes before Swift's concurrency runtime starts its threads: usage errors and the
    /// commands that need no controller; everything else is left for `CLI.main` to run.
    @Test(
        arguments: [
            ([], 0), (["--help"], 0), (["-h"], 0), (["help", "submit"], 0), (["ls", "--help"], 0),
            (["version"], 0), (["--version"], 0), (["completion", "bash"], 0), (["completion", "tcsh"], 2),
            (["frobnicate"], 2), (["ls", "--state", "bogus"], 2), (["--token"], 2),
        ] as [([String], Int32)]
    )
    func doneAtStart(_ arguments: [String], _ code: Int32) {
        guard case .done(let exit) = CLI.start(arguments) else {
            Issue.record("\(arguments) was left to run")
            return
        }
        #expect(exit == code)
    }

    @Test(arguments: [
        ["ls"], ["whoami"], ["submit", "--", "true"], ["config", "show"], ["nodes"], ["slurm", "squeue"],
        ["configure", "--endpoint", "http://127.0.0.1:1", "--token", "t"],
    ])
    func leftToRun(_ arguments: [String]) {
        guard case .run = CLI.start(arguments) else {
            Issue.record("\(arguments) was done at start")
            return
        }
    }
}
