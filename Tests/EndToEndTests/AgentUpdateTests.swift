import ClusterWire
import Foundation
import Glibc
import TestSupport
import Testing

/// Issue 20, agent self-update, with the real binaries: a build published on the controller, downloaded by the
/// agent, checked by SHA-256, installed over the agent's own binary (a copy in the test's directory) and run by
/// the same agent process after a re-exec, while a job runs. A "new build" is the built agent with bytes
/// appended: another SHA-256, the same program (the loader ignores what follows the ELF's segments).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct AgentUpdateTests {
    /// The cluster with one agent running from `root/bin/corral-agent`, a copy it may replace.
    static func cluster() async throws -> (TestCluster, String) {
        let cluster = try TestCluster()
        try await cluster.startController()
        let bin = cluster.root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let executable = bin + "/corral-agent"
        try FileManager.default.copyItem(atPath: TestCluster.binaries + "/corral-agent", toPath: executable)
        cluster.agentExecutables["node"] = executable
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        return (cluster, executable)
    }

    /// The agent binary with `marker` appended, written to `path`.
    static func build(_ cluster: TestCluster, _ path: String, marker: String) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: TestCluster.binaries + "/corral-agent"))
        bytes.append(Data("\ncorral-test-build \(marker)\n".utf8))
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    static func publish(_ cluster: TestCluster, _ path: String, _ version: String) async throws -> TestCluster.Result {
        try await cluster.run(
            "corral-controller",
            ["agents", "publish", path, "--version", version, "--data-dir", cluster.dataDir]
        )
    }

    static func node(_ cluster: TestCluster) async throws -> NodeView? {
        let out = try await cluster.corral(["nodes", "--json"]).stdout
        return try JSONDecoder.wire.decode([NodeView].self, from: Data(out.utf8)).first
    }

    static func sha256(_ path: String) throws -> String {
        let result = try TestCluster.runBlocking("/usr/bin/sha256sum", [path], [:])
        return String(result.stdout.prefix(64))
    }

    @Test func anUpdateRunsThePublishedBuildAndTheRunningJobFinishesWithItsWholeLog() async throws {
        let (cluster, executable) = try await Self.cluster()
        let original = try Self.sha256(executable)
        try await waitUntil("the node reports its build", timeout: 20) {
            try await Self.node(cluster)?.agentBuild == original
        }
        #expect(try await Self.node(cluster)?.agentVersion == "0.1.0", "an unpublished build shows its own version")
        let gate = cluster.root + "/gate"
        let job = try await cluster.submit(
            ["--gpus", "1", "--name", "during-update"],
            [
                "sh", "-c",
                "i=0; while [ ! -e \(gate) ]; do echo \"line $i\"; i=$((i+1)); sleep 0.05; done; echo done; exit 3",
            ]
        )
        let pid = try #require(try await cluster.waitForState(job, ["RUNNING"]).attempts.last?.pid)
        let agent = try #require(cluster.agents["node"])

        let new = cluster.root + "/corral-agent-9.9.9"
        try Self.build(cluster, new, marker: "9.9.9")
        let published = try await Self.publish(cluster, new, "9.9.9")
        #expect(published.status == 0, "\(published.stderr)")
        #expect(
            published.stdout.contains("published corral-agent 9.9.9 for x86_64") || published.stdout.contains("aarch64")
        )
        let listed = try await cluster.run("corral-controller", ["agents", "list", "--data-dir", cluster.dataDir])
        let newSHA = try Self.sha256(new)
        #expect(listed.stdout.contains("9.9.9") && listed.stdout.contains(newSHA))

        let update = try await cluster.run(
            executable,
            ["update", "--restart", "--config", cluster.root + "/node.toml"]
        )
        #expect(update.status == 0, "\(update.stderr)\n\(cluster.logs())")
        #expect(update.stdout.contains("installed corral-agent 9.9.9"), "\(update.stdout)")
        let installed = try Self.sha256(executable)
        #expect(try installed == Self.sha256(new))
        #expect(try Self.sha256(executable + ".previous") == original, "the replaced binary is kept")
        // The same process (re-executed: systemd would see no exit) runs the new binary and registers with it.
        #expect(agent.isRunning && processRuns(agent.processIdentifier))
        try await waitUntil("the node reports the new version", timeout: 30) {
            try await Self.node(cluster)?.agentVersion == "9.9.9"
        }
        #expect(try await cluster.corral(["nodes"]).stdout.contains("9.9.9"))
        #expect(try await cluster.corral(["nodes", "show", "node"]).stdout.contains("agent:     9.9.9"))
        #expect(processGroupRuns(pid), "the job kept running through the update")

        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let done = try await cluster.waitForState(job, ["SUCCEEDED", "FAILED"], timeout: 30)
        #expect(done.state == "FAILED" && done.exitCode == 3, "\(cluster.logs())")
        #expect(done.attempts.count == 1, "the job ran once")
        let log = try await cluster.corral(["logs", job]).stdout
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count >= 3 && lines.suffix(2) == ["done", ""], "\(log.suffix(200))")
        #expect(log == (0..<max(lines.count - 2, 0)).map { "line \($0)\n" }.joined() + "done\n", "every line once")
        #expect(cluster.logs().contains("adopted"))

        // Updating again changes nothing; a rollback puts the first binary back, and the agent runs it.
        let again = try await cluster.run(executable, ["update", "--config", cluster.root + "/node.toml"])
        #expect(
            again.status == 0 && again.stdout.contains("already corral-agent 9.9.9"),
            "\(again.stdout)\(again.stderr)"
        )
        let back = try await cluster.run(
            executable,
            ["update", "--rollback", "--restart", "--config", cluster.root + "/node.toml"]
        )
        #expect(back.status == 0, "\(back.stderr)")
        #expect(try Self.sha256(executable) == original)
        try await waitUntil("the node reports its first build again", timeout: 30) {
            let node = try await Self.node(cluster)
            return node?.agentBuild == original && node?.agentVersion == "0.1.0"
        }
        #expect(agent.isRunning)
    }

    @Test func aCorruptedOrBrokenBuildIsRefusedAndTheAgentKeepsRunning() async throws {
        let (cluster, executable) = try await Self.cluster()
        let original = try Self.sha256(executable)
        try await waitUntil("the node reports its build", timeout: 20) {
            try await Self.node(cluster)?.agentBuild == original
        }
        let agent = try #require(cluster.agents["node"])
        let config = cluster.root + "/node.toml"

        // A build whose stored bytes changed after it was published (a bad disk, a meddler): refused by hash.
        let new = cluster.root + "/corral-agent-2.0.0"
        try Self.build(cluster, new, marker: "2.0.0")
        #expect(try await Self.publish(cluster, new, "2.0.0").status == 0)
        let stored = cluster.dataDir + "/agent-builds/\(try Self.sha256(new))/corral-agent"
        let handle = try #require(FileHandle(forUpdatingAtPath: stored))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data([0x42, 0x42, 0x42, 0x42]))
        try handle.close()
        let corrupt = try await cluster.run(executable, ["update", "--restart", "--config", config])
        #expect(corrupt.status == 1)
        #expect(
            corrupt.stderr.contains("not the published") && corrupt.stderr.contains("unchanged"),
            "\(corrupt.stderr)"
        )
        #expect(try Self.sha256(executable) == original)
        #expect(!FileManager.default.fileExists(atPath: executable + ".previous"))

        // A binary that does not start (`false` is an executable of the right architecture that exits 1).
        #expect(try await Self.publish(cluster, "/usr/bin/false", "3.0.0").status == 0)
        let broken = try await cluster.run(executable, ["update", "--version", "3.0.0", "--config", config])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("does not start"), "\(broken.stderr)")
        #expect(try Self.sha256(executable) == original)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cluster.root + "/bin")
            .filter { $0 != ".corral-agent.update.lock" }
        #expect(leftovers == ["corral-agent"], "nothing half-installed stays: \(leftovers)")

        // A version nobody published, and no agent running to restart.
        let missing = try await cluster.run(executable, ["update", "--version", "7.7.7", "--config", config])
        #expect(missing.status == 1 && missing.stderr.contains("no agent build of version 7.7.7"), "\(missing.stderr)")

        #expect(agent.isRunning)
        let node = try #require(try await Self.node(cluster))
        #expect(node.status == "READY" && node.agentBuild == original)
        let job = try await cluster.submit([], ["sh", "-c", "exit 0"])
        #expect(try await cluster.waitForState(job, ["SUCCEEDED", "FAILED"], timeout: 30).state == "SUCCEEDED")
    }

    @Test func publishRefusesWhatIsNotAnAgentBuild() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        let new = cluster.root + "/agent"
        try Self.build(cluster, new, marker: "1.0.0")
        for (arguments, message) in [
            (["publish", "/etc/passwd", "--version", "1.0.0"], "not a Linux x86_64 or aarch64 executable"),
            (["publish", new, "--version", "1.0 beta"], "use 1-64 letters"),
            (["publish", new, "--version", "-1"], "use 1-64 letters"),
            (["publish", new], "--version V is required"),
            (["publish", "--version", "1.0.0"], "name the agent binary"),
            (["publish", cluster.root + "/nothing", "--version", "1.0.0"], "cannot read"),
            (["publish", new, "--version", "1.0.0", "--arch", "sparc"], "--arch must be one of"),
            (["frobnicate"], "usage: corral-controller agents"),
        ] {
            let result = try await cluster.run(
                "corral-controller",
                ["agents"] + arguments + ["--data-dir", cluster.dataDir]
            )
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try await Self.publish(cluster, new, "1.0.0").status == 0)
        let relabel = try await Self.publish(cluster, new, "1.0.1")
        #expect(relabel.status == 1 && relabel.stderr.contains("already published as version 1.0.0"))
        let other = cluster.root + "/agent2"
        try Self.build(cluster, other, marker: "other")
        let taken = try await Self.publish(cluster, other, "1.0.0")
        #expect(taken.status == 1 && taken.stderr.contains("already published for"), "\(taken.stderr)")
        let listed = try await cluster.run(
            "corral-controller",
            ["agents", "list", "--json", "--data-dir", cluster.dataDir]
        )
        let builds = try WireJSON.decoder().decode(AgentBuildList.self, from: Data(listed.stdout.utf8)).builds
        #expect(builds.map(\.version) == ["1.0.0"])
    }

    /// `corral nodes update`: both agents, one at a time, while each runs a job; then a corrupted build stops
    /// the rollout at its first node, and both agents run on.
    @Test func aRollingUpdateTakesEveryNodeInTurnAndStopsAtAFailure() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        var executables: [String: String] = [:]
        for name in ["a", "b"] {
            let bin = cluster.root + "/bin-\(name)"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            executables[name] = bin + "/corral-agent"
            try FileManager.default.copyItem(
                atPath: TestCluster.binaries + "/corral-agent",
                toPath: bin + "/corral-agent"
            )
            cluster.agentExecutables[name] = bin + "/corral-agent"
            try await cluster.startAgent(name, gpus: 1)
        }
        try await cluster.configureCLI()
        let original = try Self.sha256(executables["a"]!)
        try await waitUntil("both nodes report their build", timeout: 30) {
            let out = try await cluster.corral(["nodes", "--json"]).stdout
            let nodes = try JSONDecoder.wire.decode([NodeView].self, from: Data(out.utf8))
            return nodes.count == 2 && nodes.allSatisfy { $0.agentBuild == original && $0.status == "READY" }
        }
        let gate = cluster.root + "/gate"
        var jobs: [String] = []
        for index in 0..<2 {
            jobs.append(
                try await cluster.submit(
                    ["--gpus", "1"],
                    [
                        "sh", "-c",
                        "i=0; while [ ! -e \(gate) ]; do echo \"\(index) $i\"; i=$((i+1)); sleep 0.05; done; exit \(index + 4)",
                    ]
                )
            )
        }
        for job in jobs { _ = try await cluster.waitForState(job, ["RUNNING"]) }

        let new = cluster.root + "/corral-agent-9.9.9"
        try Self.build(cluster, new, marker: "9.9.9")
        #expect(try await Self.publish(cluster, new, "9.9.9").status == 0)
        let rolled = try await cluster.corral(["nodes", "update", "--max-parallel", "1"])
        #expect(rolled.status == 0, "\(rolled.stdout)\(rolled.stderr)\n\(cluster.logs())")
        #expect(
            rolled.stdout.contains("a: updating to 9.9.9 (from 0.1.0)\na: runs 9.9.9\nb: updating"),
            "\(rolled.stdout)"
        )
        #expect(rolled.stdout.contains(": done\n"))
        let status = try await cluster.corral(["nodes", "update", "--status", "--json"])
        let view = try JSONDecoder.wire.decode(RolloutView.self, from: Data(status.stdout.utf8))
        #expect(view.state == "done" && view.nodes.map(\.phase) == ["done", "done"])
        // One at a time: b's turn came when a had restarted onto the build.
        let aEnded = try #require(view.nodes[0].endedAt.flatMap(WireTime.parse))
        let bStarted = try #require(view.nodes[1].startedAt.flatMap(WireTime.parse))
        #expect(bStarted >= aEnded, "\(view.nodes)")
        let newSHA = try Self.sha256(new)
        for name in ["a", "b"] {
            let installed = try Self.sha256(executables[name]!)
            #expect(installed == newSHA)
            #expect(cluster.agents[name]?.isRunning == true)
        }
        #expect(try await cluster.corral(["nodes"]).stdout.components(separatedBy: "9.9.9").count == 3)

        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        for (index, job) in jobs.enumerated() {
            let done = try await cluster.waitForState(job, ["SUCCEEDED", "FAILED"], timeout: 30)
            #expect(done.exitCode == Int32(index + 4) && done.attempts.count == 1, "\(cluster.logs())")
            let log = try await cluster.corral(["logs", job]).stdout
            let lines = log.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(log == (0..<max(lines.count - 1, 0)).map { "\(index) \($0)\n" }.joined(), "every line once")
        }

        // A build corrupted where it is stored: the first node refuses it, and no other node is started.
        let bad = cluster.root + "/corral-agent-10.0.0"
        try Self.build(cluster, bad, marker: "10.0.0")
        #expect(try await Self.publish(cluster, bad, "10.0.0").status == 0)
        let stored = cluster.dataDir + "/agent-builds/\(try Self.sha256(bad))/corral-agent"
        let handle = try #require(FileHandle(forUpdatingAtPath: stored))
        try handle.seek(toOffset: 8192)
        try handle.write(contentsOf: Data([1, 2, 3, 4]))
        try handle.close()
        let refused = try await cluster.corral(["nodes", "update"])
        #expect(refused.status == 1)
        #expect(
            refused.stdout.contains("a: failed") && refused.stdout.contains("not the published"),
            "\(refused.stdout)"
        )
        #expect(refused.stdout.contains(": failed\n") && !refused.stdout.contains("b: updating"))
        let after = try JSONDecoder.wire.decode(
            RolloutView.self,
            from: Data(try await cluster.corral(["nodes", "update", "--status", "--json"]).stdout.utf8)
        )
        #expect(after.nodes.map(\.phase) == ["failed", "waiting"])
        for name in ["a", "b"] {
            let installed = try Self.sha256(executables[name]!)
            #expect(installed == newSHA)
            #expect(cluster.agents[name]?.isRunning == true)
        }
        let busy = try await cluster.corral(["nodes", "update", "--abort"])
        #expect(busy.status != 0, "the failed rollout runs no longer: nothing to abort")
    }

    /// `update_public_key`: a node installs only builds signed by the operator's Ed25519 key (made here with the
    /// openssl command line, as an operator would).
    @Test func aNodeWithAnUpdateKeyInstallsOnlyBuildsSignedByIt() async throws {
        let (cluster, executable) = try await Self.cluster()
        let keys = cluster.root + "/keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
        func openssl(_ arguments: [String]) throws {
            let result = try TestCluster.runBlocking("/usr/bin/openssl", arguments, [:])
            #expect(result.status == 0, "openssl \(arguments): \(result.stderr)")
        }
        for name in ["operator", "stranger"] {
            try openssl(["genpkey", "-algorithm", "ed25519", "-out", "\(keys)/\(name).key"])
            try openssl(["pkey", "-in", "\(keys)/\(name).key", "-pubout", "-out", "\(keys)/\(name).pub"])
        }
        let config = cluster.root + "/node.toml"
        let settings = "update_public_key = \"\(keys)/operator.pub\"\n" + cluster.read(config) + "\n"
        try settings.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)
        let original = try Self.sha256(executable)

        func publish(_ version: String, signedBy key: String?) async throws -> TestCluster.Result {
            let file = cluster.root + "/corral-agent-\(version)"
            try Self.build(cluster, file, marker: version)
            var arguments = ["agents", "publish", file, "--version", version, "--data-dir", cluster.dataDir]
            if let key {
                try openssl([
                    "pkeyutl", "-sign", "-rawin", "-inkey", "\(keys)/\(key).key", "-in", file, "-out", file + ".sig",
                ])
                arguments += ["--signature", file + ".sig"]
            }
            return try await cluster.run("corral-controller", arguments)
        }
        #expect(try await publish("1.0.0", signedBy: nil).status == 0)
        let unsigned = try await cluster.run(executable, ["update", "--version", "1.0.0", "--config", config])
        #expect(unsigned.status == 1 && unsigned.stderr.contains("is not signed"), "\(unsigned.stderr)")
        #expect(try await publish("2.0.0", signedBy: "stranger").status == 0)
        let stranger = try await cluster.run(executable, ["update", "--version", "2.0.0", "--config", config])
        #expect(stranger.status == 1 && stranger.stderr.contains("is not one by the key"), "\(stranger.stderr)")
        #expect(try Self.sha256(executable) == original)

        let signed = try await publish("3.0.0", signedBy: "operator")
        #expect(signed.status == 0 && signed.stdout.contains("signed"), "\(signed.stderr)")
        let update = try await cluster.run(
            executable,
            ["update", "--version", "3.0.0", "--restart", "--config", config]
        )
        #expect(update.status == 0, "\(update.stderr)")
        try await waitUntil("the node reports the signed build", timeout: 30) {
            try await Self.node(cluster)?.agentVersion == "3.0.0"
        }

        // A signature that is not 64 bytes is refused at publication.
        let file = cluster.root + "/corral-agent-4.0.0"
        try Self.build(cluster, file, marker: "4.0.0")
        try Data(repeating: 7, count: 10).write(to: URL(fileURLWithPath: file + ".sig"))
        let short = try await cluster.run(
            "corral-controller",
            [
                "agents", "publish", file, "--version", "4.0.0", "--signature", file + ".sig", "--data-dir",
                cluster.dataDir,
            ]
        )
        #expect(short.status == 1 && short.stderr.contains("an Ed25519 signature has 64"), "\(short.stderr)")
    }

    /// A node whose disk cannot hold the new binary, and a download shorter than the build: refused, nothing
    /// left behind, the agent as it was. The binary lives on a tmpfs of the test's own (root only).
    @Test(.enabled(if: Tmpfs.canMount, "needs root that may mount a tmpfs"))
    func aFullDiskOrATruncatedDownloadLeavesTheAgentAsItWas() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        let bin = cluster.root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let built = TestCluster.binaries + "/corral-agent"
        let megabytes = (try FileManager.default.attributesOfItem(atPath: built)[.size] as? Int ?? 0) / (1 << 20) + 2
        #expect(Tmpfs.mount(at: bin, size: "\(megabytes)m"))
        defer { Tmpfs.unmount(bin) }
        let executable = bin + "/corral-agent"
        try FileManager.default.copyItem(atPath: built, toPath: executable)
        cluster.agentExecutables["node"] = executable
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let original = try Self.sha256(executable)
        let config = cluster.root + "/node.toml"

        let new = cluster.root + "/corral-agent-5.0.0"
        try Self.build(cluster, new, marker: "5.0.0")
        #expect(try await Self.publish(cluster, new, "5.0.0").status == 0)
        let full = try await cluster.run(executable, ["update", "--restart", "--config", config])
        #expect(full.status == 1)
        #expect(full.stderr.contains("No space left on device") && full.stderr.contains("unchanged"), "\(full.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: bin).filter { $0 != ".corral-agent.update.lock" }
        #expect(left == ["corral-agent"], "no half-written file: \(left)")
        #expect(try Self.sha256(executable) == original)

        // The published size is more than the controller sends: a download cut short.
        let record = cluster.dataDir + "/agent-builds/\(try Self.sha256(new))/build.json"
        var build = try JSONDecoder.wire.decode(AgentBuild.self, from: Data(contentsOf: URL(fileURLWithPath: record)))
        build.size += 4096
        try WireJSON.encodePretty(build).write(toFile: record, atomically: true, encoding: .utf8)
        let short = try await cluster.run(executable, ["update", "--config", config])
        #expect(short.status == 1 && short.stderr.contains("bytes, not the \(build.size) published"), "\(short.stderr)")
        #expect(try Self.sha256(executable) == original)
        #expect(cluster.agents["node"]?.isRunning == true)
        #expect(try await Self.node(cluster)?.status == "READY")
    }

    /// A build that passes `version` but fails once running as the agent (a fault hook of debug builds fails its
    /// start): the test restarts it as systemd would, and its fourth start puts the previous binary back, which
    /// registers and says why.
    @Test func aBuildThatFailsAtStartIsRolledBackByItsFourthStart() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        let bin = cluster.root + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let executable = bin + "/corral-agent"
        try FileManager.default.copyItem(atPath: TestCluster.binaries + "/corral-agent", toPath: executable)
        let original = try Self.sha256(executable)
        let new = cluster.root + "/corral-agent-6.0.0"
        try Self.build(cluster, new, marker: "6.0.0")
        cluster.daemonEnvironment["CORRAL_TEST_FAIL_START_OF_BUILD"] = try Self.sha256(new)
        cluster.agentExecutables["node"] = executable
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        try await waitUntil("the node reports its build", timeout: 20) {
            try await Self.node(cluster)?.agentBuild == original
        }
        #expect(try await Self.publish(cluster, new, "6.0.0").status == 0)
        _ = try await cluster.run(executable, ["update", "--restart", "--config", cluster.root + "/node.toml"])
        // systemd's Restart=always, played by the test: each time the agent has exited, start it again.
        var starts = 0
        try await waitUntil("the agent is back on its first binary", timeout: 90) {
            if let agent = cluster.agents["node"], !agent.isRunning {
                starts += 1
                try await cluster.restartAgent("node")
                return false
            }
            return try await Self.node(cluster)?.agentBuild == original && Self.sha256(executable) == original
        }
        #expect(starts >= 2, "the new binary failed its starts: \(starts)")
        #expect(try Self.sha256(executable + ".previous") == Self.sha256(new))
        #expect(cluster.logs().contains("the previous one was put back"), "\(cluster.logs().suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: bin + "/.corral-agent.trial"))
        let agent = try #require(cluster.agents["node"])
        #expect(agent.isRunning)
    }
}
