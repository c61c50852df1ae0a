import ClusterWire
import Foundation
import Glibc
import Testing

/// `corral configure` as people meet it: questions on a real terminal (a pty), the token never echoed, and
/// the endpoint and token checked against the real controller before anything is saved.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ConfigureTests {
    @Test func asksOnATerminalHidesTheTokenAndChecksItBeforeSaving() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        let config = cluster.home + "/.corral/config.toml"

        let first = try await cluster.runOnTerminal(
            "corral",
            ["configure"],
            conversation: [("controller endpoint", cluster.endpoint), ("token (not shown)", cluster.adminToken)]
        )
        #expect(first.status == 0, "\(first.screen)")
        #expect(first.screen.contains("you are admin"), "\(first.screen)")
        #expect(first.screen.contains(cluster.endpoint), "the endpoint typed is echoed")
        #expect(!first.screen.contains(cluster.adminToken), "the token typed is not echoed: \(first.screen)")
        #expect(cluster.read(config).contains(cluster.adminToken))

        // Again: Enter keeps each saved value, which the questions show (the token only by its prefix).
        let again = try await cluster.runOnTerminal(
            "corral",
            ["configure"],
            conversation: [("[\(cluster.endpoint)]", ""), ("Enter keeps \(cluster.adminToken.prefix(12))", "")]
        )
        #expect(again.status == 0, "\(again.screen)")
        #expect(!again.screen.contains(cluster.adminToken))

        // A wrong token typed at the question is refused by the controller, and the saved file stays as it was.
        let before = cluster.read(config)
        let wrong = try await cluster.runOnTerminal(
            "corral",
            ["configure"],
            conversation: [("controller endpoint", ""), ("token (not shown)", "crl_not_a_token")]
        )
        #expect(wrong.status == 1)
        #expect(wrong.screen.contains("rejected the token"), "\(wrong.screen)")
        #expect(wrong.screen.contains("nothing saved"))
        #expect(cluster.read(config) == before)

        // Flags alone never ask, even on a terminal.
        let flags = try await cluster.runOnTerminal(
            "corral",
            ["configure", "--endpoint", cluster.endpoint, "--token-file", cluster.dataDir + "/admin.token"],
            conversation: []
        )
        #expect(flags.status == 0, "\(flags.screen)")
        #expect(!flags.screen.contains("controller endpoint") && !flags.screen.contains("token (not shown)"))
    }

    @Test func anUnreachableEndpointIsNotSavedUnlessAskedTo() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()
        let config = cluster.home + "/.corral/config.toml"
        let before = cluster.read(config)
        // Port 1 on loopback: nothing listens there.
        let unreachable = try await cluster.corral(
            ["configure", "--endpoint", "http://127.0.0.1:1", "--token", "-"],
            input: cluster.adminToken + "\n"
        )
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("127.0.0.1:1"), "\(unreachable.stderr)")
        #expect(unreachable.stderr.contains("nothing saved"), "\(unreachable.stderr)")
        #expect(cluster.read(config) == before)

        let saved = try await cluster.corral(
            ["configure", "--endpoint", "http://127.0.0.1:1", "--token", "-", "--no-verify"],
            input: cluster.adminToken + "\n"
        )
        #expect(saved.status == 0, "\(saved.stderr)")
        #expect(cluster.read(config).contains("http://127.0.0.1:1"))
        let after = try await cluster.corral(["ls"])
        #expect(after.status == 1)
        #expect(after.stderr.contains("is the controller running?"), "\(after.stderr)")
    }
}

/// `corral submit` without a command asks for the job on a terminal, and never off one.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SubmitPromptTests {
    @Test func submitAsksOnATerminalAndRunsWhatWasTyped() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let asked = try await cluster.runOnTerminal(
            "corral",
            ["submit", "--gpus", "1"],  // a flag given is not asked again
            conversation: [
                ("command", "echo typed at the prompt; echo GPUS=$CUDA_VISIBLE_DEVICES"), ("name", "asked"),
                ("container image", ""), ("queue", ""), ("CPUs [1]", "2"), ("memory", "1G"),
            ]
        )
        #expect(asked.status == 0, "\(asked.screen)")
        #expect(!asked.screen.contains("GPUs [0]"))
        let id = try #require(asked.screen.split(whereSeparator: \.isNewline).last.map { String($0).trimmed })
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED")
        #expect(done.name == "asked")
        #expect(done.cpus == 2 && done.gpus == 1 && done.memory == 1 << 30)
        let logs = try await cluster.corral(["logs", id])
        #expect(logs.stdout == "typed at the prompt\nGPUS=0\n", "\(logs.stdout)")

        // A bad answer is a usage error and submits nothing; off a terminal nothing is asked.
        let bad = try await cluster.runOnTerminal(
            "corral",
            ["submit"],
            conversation: [
                ("command", "true"), ("name", ""), ("container image", ""), ("queue", ""), ("GPUs", "two"),
            ]
        )
        #expect(bad.status == 2)
        #expect(bad.screen.contains("GPUs takes a whole number, got 'two'"), "\(bad.screen)")
        let scripted = try await cluster.corral(["submit"])
        #expect(scripted.status == 2)
        #expect(scripted.stderr.contains("no command to run"))
        let listed = try await cluster.corral(["ls", "--all"])
        #expect(listed.stdout.split(separator: "\n").count == 2, "a header and the one job: \(listed.stdout)")
    }
}

/// `corral-agent configure` on a real terminal (a pty): it asks for what no flag gave, the join token without
/// echo, and writes an agent.toml the agent then starts with.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AgentConfigureTests {
    @Test func asksOnATerminalAndTheAgentStartsWithWhatWasTyped() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        let config = cluster.root + "/typed.toml"
        let session = try await cluster.runOnTerminal(
            "corral-agent",
            ["configure", "--config", config, "--declare-gpus", "1", "--state-dir", cluster.stateDir(agent: "typed")],
            conversation: [
                ("controller endpoint", cluster.endpoint), ("cluster join token", cluster.clusterToken),
                ("node id", "typed-node"),
            ]
        )
        #expect(session.status == 0, "\(session.screen)")
        #expect(!session.screen.contains(cluster.clusterToken), "the token typed is not echoed: \(session.screen)")
        let written = cluster.read(config)
        #expect(written.contains("endpoint = \"\(cluster.endpoint)\""))
        #expect(written.contains("node_id = \"typed-node\""))
        #expect(written.contains(cluster.clusterToken))

        // Again: Enter keeps every value, and the token shows only by its prefix.
        let again = try await cluster.runOnTerminal(
            "corral-agent",
            ["configure", "--config", config],
            conversation: [("[\(cluster.endpoint)]", ""), ("Enter keeps", ""), ("[typed-node]", "")]
        )
        #expect(again.status == 0, "\(again.screen)")
        #expect(!again.screen.contains(cluster.clusterToken))
        #expect(cluster.read(config) == written)

        cluster.agents["typed"] = try cluster.launch(
            "corral-agent",
            ["start", "--config", config],
            log: cluster.root + "/typed.log"
        )
        try await cluster.configureCLI()
        try await waitUntil("the typed node registers", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.contains("typed-node")
        }
    }
}
