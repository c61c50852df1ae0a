import ClusterWire
import Foundation
import Testing

/// The CLI's workflows with the real binaries: run, wait, spec files and targets.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CLIWorkflowTests {
    @Test func runStreamsTheOutputAndExitsWithTheJobsCode() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let ok = try await cluster.corral([
            "run", "--gpus", "1", "--", "sh", "-c", "echo hello from $CUDA_VISIBLE_DEVICES",
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "hello from 0\n")
        let failing = try await cluster.corral(["run", "--", "sh", "-c", "echo bye; exit 7"])
        #expect(failing.status == 7)
        #expect(failing.stdout == "bye\n")
        #expect(failing.stderr.contains("FAILED"))
    }

    @Test func submitWaitAndWaitReturnTheExitCode() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        let waited = try await cluster.corral(["submit", "--wait", "--", "sh", "-c", "exit 3"])
        #expect(waited.status == 3)
        #expect(!waited.stdout.trimmed.isEmpty)
        let id = try await cluster.submit([], ["sleep", "1"])
        let wait = try await cluster.corral(["wait", id])
        #expect(wait.status == 0, "\(wait.stderr)")
        #expect(wait.stderr.contains("SUCCEEDED"))
    }

    @Test func aSpecFileWithFlagsOnTop() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 2)
        try await cluster.configureCLI()
        let spec = cluster.root + "/job.toml"
        try """
        name = "from-file"
        command = ["sh", "-c", "echo $GREETING"]
        gpus = 1
        time_limit = "1h"
        memory = "1G"

        [env]
        GREETING = "hi"
        """.write(toFile: spec, atomically: true, encoding: .utf8)
        let submitted = try await cluster.corral(["submit", "-f", spec, "--gpus", "2", "--json"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let job = try JSONDecoder.wire.decode(JobView.self, from: Data(submitted.stdout.utf8))
        #expect(job.name == "from-file")
        #expect(job.gpus == 2)  // the flag wins
        #expect(job.timeLimit == 3600)
        #expect(job.memory == 1 << 30)
        #expect(job.env == ["GREETING": "hi"])
        let bad = cluster.root + "/bad.toml"
        try "command = [\"x\"]\ngpu = 1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await cluster.corral(["submit", "-f", bad])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("unknown field 'gpu'"))
    }

    @Test func targetsByIndexNameListAndAll() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()  // no agent: the jobs stay QUEUED
        var ids: [String] = []
        for name in ["a", "b", "c", "d"] { ids.append(try await cluster.submit(["--name", name], ["true"])) }
        let listing = try await cluster.corral(["ls"])
        #expect(listing.status == 0)
        // For index targets and shell completion: the listing's ids and names, newest first.
        let rows = cluster.read(cluster.home + "/.corral/last-listing").split(separator: "\n").dropFirst()
        #expect(
            rows.joined(separator: "\n")
                == zip(ids, ["a", "b", "c", "d"]).reversed().map { "\($0)\t\($1)" }.joined(separator: "\n")
        )
        // Newest first: row 1 is d, row 4 is a. show, logs and explain take a row too.
        let shown = try await cluster.corral(["show", "1", "--json"])
        #expect(try JSONDecoder.wire.decode(JobView.self, from: Data(shown.stdout.utf8)).id == ids[3])
        #expect(try await cluster.corral(["explain", "2"]).stdout.contains(ids[2]))
        let byIndex = try await cluster.corral(["cancel", "1"])
        #expect(byIndex.stdout == "canceled \(ids[3])\n", "\(byIndex.stderr)")
        let byName = try await cluster.corral(["cancel", "c"])
        #expect(byName.stdout == "canceled \(ids[2])\n", "\(byName.stderr)")
        // Several at once need --yes without a terminal.
        let unconfirmed = try await cluster.corral(["cancel", "3-4"])
        #expect(unconfirmed.status == 2)
        #expect(unconfirmed.stderr.contains("--yes"))
        let rest = try await cluster.corral(["cancel", "all", "--yes"])
        #expect(rest.status == 0)
        #expect(
            Set(rest.stdout.split(separator: "\n").map(String.init)) == ["canceled \(ids[0])", "canceled \(ids[1])"]
        )
        let nothing = try await cluster.corral(["ls"])
        #expect(nothing.stdout.contains("no active jobs"))
        let stale = try await cluster.corral(["cancel", "9"])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("row 9") || stale.stderr.contains("corral ls"))
    }
}

/// The README's CLI reference and `corral --help` list the same commands.
@Suite struct CLIReferenceTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../README.md").standardized.path

    /// libcurl (and the thirty libraries it pulls in) is not loaded at start, and not at all for a controller
    /// at an http:// endpoint, which HTTPKit's own client talks to (issue 16); only https loads it, at the
    /// first request. OpenSSL (libssl, libcrypto) is not loaded either: nothing here hashes, signs or speaks
    /// TLS. The dynamic loader's own trace says which libraries a command opened.
    @Test func helpAndPlainHTTPRequestsRunWithoutLibcurlOrOpenSSL() async throws {
        let cluster = try TestCluster()
        let unwanted = ["libcurl", "libssl", "libcrypto"]
        let help = try await cluster.corral(["--help"], env: ["LD_DEBUG": "libs"])
        #expect(help.status == 0 && help.stderr.contains("calling init"), "the loader traced nothing: \(help.stderr)")
        for library in unwanted { #expect(!help.stderr.contains(library), "\(help.stderr)") }
        try await cluster.startController()
        try await cluster.configureCLI()
        let submit = try await cluster.corral(["submit", "--", "true"], env: ["LD_DEBUG": "libs"])
        #expect(submit.status == 0 && submit.stderr.contains("calling init"), "\(submit.stderr.suffix(2000))")
        for library in unwanted { #expect(!submit.stderr.contains(library), "\(submit.stderr.suffix(2000))") }
        let list = try await cluster.corral(["ls", "--all"], env: ["LD_DEBUG": "libs"])
        #expect(list.status == 0, "\(list.stderr.suffix(2000))")
        for library in unwanted { #expect(!list.stderr.contains(library), "\(list.stderr.suffix(2000))") }
        let id = submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!id.isEmpty && list.stdout.contains(id), "\(list.stdout)")
    }

    /// A command done before the runtime starts (`CLI.start`) still ignores SIGPIPE: `corral version | true`
    /// ends with an exit code, not killed by the signal, whatever the shell's pipe does first. Spawned with
    /// SIGPIPE at its default (this test process ignores it, and an exec would pass that on) and with its
    /// output a pipe nobody reads.
    @Test func versionIntoAPipeNobodyReadsIsNotKilledBySIGPIPE() throws {
        for arguments in [["version"], ["--help"], ["frobnicate"]] {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            close(fds[0])
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            sigemptyset(&none)
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &pipeSignal)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            let path = TestCluster.binaries + "/corral"
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path)] + arguments.map { strdup($0) } + [nil]
            defer { for pointer in argv { free(pointer) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
            close(fds[1])
            try #require(spawned == 0)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            #expect(status & 0x7f == 0, "\(arguments): killed by signal \(status & 0x7f)")
        }
    }

    /// An agent at an http:// controller maps neither libcurl nor OpenSSL, idle or after running a job: they
    /// would be about 1.5 MB of its resident memory (issue 16). Its own mappings say so.
    @Test func agentRunsJobsWithoutLibcurlOrOpenSSL() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()
        try await cluster.startAgent("n1", gpus: 0)
        let id = try await cluster.submit([], ["true"])
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED")
        let pid = try #require(cluster.agents["n1"]?.processIdentifier)
        let maps = cluster.read("/proc/\(pid)/maps")
        #expect(maps.contains("corral-agent"), "\(maps)")
        for library in ["libcurl", "libssl", "libcrypto"] { #expect(!maps.contains(library), "\(maps)") }
    }

    @Test func readmeAndHelpNameTheSameCommands() async throws {
        let cluster = try TestCluster()
        let help = try await cluster.corral(["--help"])
        #expect(help.status == 0)
        let commandSection = help.stdout.components(separatedBy: "commands:\n")[1].components(separatedBy: "\n\n")[0]
        let helpCommands = Set(
            commandSection.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("  "), let word = line.split(separator: " ").first else { return nil }
                return String(word.trimmingCharacters(in: CharacterSet(charactersIn: ",")))
            }.filter { $0.allSatisfy(\.isLetter) }
        )
        let text = try String(contentsOfFile: Self.readme, encoding: .utf8)
        let section = text.components(separatedBy: "## CLI reference")[1].components(separatedBy: "```")[1]
        let readmeCommands = Set(
            section.split(separator: "\n").compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard words.first == "corral", words.count > 1 else { return nil }
                return String(words[1])
            }
        )
        // `ps` is an alias shown as "ls, ps" in help and "ls | ps" in the README.
        #expect(helpCommands.subtracting(["ps", "help"]) == readmeCommands.subtracting(["ps", "help"]))
    }
}
