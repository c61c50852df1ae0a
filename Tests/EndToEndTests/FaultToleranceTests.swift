import ClusterCore
import ClusterWire
import Foundation
import Glibc
import HTTPKit
import LinuxSystem
import Testing

/// Node faults, leases, retries and drain with the real binaries and short timeouts. No GPU is involved: the
/// agents declare GPUs (see WalkingSkeletonTests).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FaultToleranceTests {
    /// Short timeouts so a test sees a node lost in seconds: node timeout 2 s, allocation lease 4 s,
    /// launch lease 3 s.
    static let fast = ["--node-timeout", "2", "--allocation-lease", "4", "--launch-lease", "3"]

    @Test func aDeadNodesJobRunsAgainElsewhereNeverTwiceAtOnce() async throws {
        let cluster = try TestCluster()
        try await cluster.startController(extra: Self.fast)
        try await cluster.startAgent("node-a", gpus: 1)
        try await cluster.startAgent("node-b", gpus: 1)
        try await cluster.configureCLI()
        try await waitUntil("both nodes are ready", timeout: 60) {
            let nodes = try await cluster.corral(["nodes", "--json"])
            return nodes.stdout.components(separatedBy: "\"READY\"").count == 3
        }
        let out = cluster.root + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // Each attempt records when it started and, once the file `go` exists, when it ended. The test makes the
        // file only once the first attempt is dead: on a loaded machine a fixed run (3 s once, then 8 s) can end
        // before the test sees RUNNING and kills the node.
        let script = """
            date +%s%N > "\(out)/$CORRAL_ALLOCATION_ID.start"; while [ ! -e "\(out)/go" ]; do sleep 0.1; done
            date +%s%N > "\(out)/$CORRAL_ALLOCATION_ID.end"
            """
        let id = try await cluster.submit(["--gpus", "1"], ["sh", "-c", script])
        let first = try await cluster.waitForState(id, ["RUNNING"])
        let doomed = try #require(first.node)
        let pid = try #require(first.attempts.last?.pid)

        // The node dies: its agent and the job's whole process group are killed at once.
        let agent = try #require(cluster.agents[doomed])
        kill(agent.processIdentifier, SIGKILL)
        kill(-pid, SIGKILL)
        let killedWallClock = Int(Date().timeIntervalSince1970 * 1e9)
        try await waitUntil("the first attempt is gone", timeout: 30) { !processGroupRuns(pid) }
        _ = FileManager.default.createFile(atPath: out + "/go", contents: nil)

        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60)
        #expect(done.state == "SUCCEEDED", "\(done.message ?? "")\n\(cluster.logs())")
        #expect(done.attempts.count == 2)
        #expect(done.attempts.first?.state == "LOST")
        #expect(done.attempts.first?.node == doomed)
        #expect(done.attempts.last?.node != doomed)
        // The retry came from the infrastructure budget, not the job's own (max_retries is 0).
        let events = try await cluster.corral(["show", id])
        #expect(events.stdout.contains("LOST"))
        #expect(events.stdout.contains("node faults"))
        // The second copy started only after the first was gone.
        let secondStart = Int(cluster.read("\(out)/\(id).2.start")) ?? 0
        #expect(secondStart > killedWallClock)
        #expect(!FileManager.default.fileExists(atPath: "\(out)/\(id).1.end"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/\(id).2.end"))
        let nodes = try await cluster.corral(["nodes"])
        #expect(nodes.stdout.contains("LOST"))
    }

    @Test func anAgentThatNeverAcceptsGivesTheJobBackAfterTheLaunchLease() async throws {
        let cluster = try TestCluster()
        try await cluster.startController(extra: Self.fast)
        try await cluster.configureCLI()
        // Submitted first, so that the registration's scheduling pass places it at once: submitted after, it could
        // come (on a loaded machine) when the silent node was lost already, and its ALLOCATED spell is too short
        // for the test's polls to be sure to see; the event log below shows it.
        let id = try await cluster.submit(["--gpus", "1"], ["true"])
        // A stand-in agent: it registers (so the scheduler places work on it) but never polls for work.
        _ = try await StandInAgent.register(cluster, node: "silent")
        // Back in the queue by the launch lease, or (a loaded machine, the controller up longer than a lease)
        // by the node timeout that came first: either way the launch is given back, never run.
        try await waitUntil("the job is back in the queue", timeout: 30) {
            let events = try await cluster.events(id)
            return events.contains { $0.from == "ALLOCATED" && $0.to == "QUEUED" }
        }
        let job = try await cluster.job(id)
        #expect(["QUEUED", "ALLOCATED"].contains(job.state))
    }

    @Test func ownFailuresAreRetriedOnlyAsMaxRetriesAllows() async throws {
        let cluster = try TestCluster()
        try await cluster.startController(extra: ["--retry-backoff", "2"])
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let once = try await cluster.submit([], ["sh", "-c", "exit 1"])
        let twice = try await cluster.submit(["--retries", "1"], ["sh", "-c", "exit 1"])
        let noRetry = try await cluster.waitForState(once, ["FAILED", "SUCCEEDED"])
        #expect(noRetry.attempts.count == 1)
        try await waitUntil("the retried job has failed twice", timeout: 30) {
            let job = try await cluster.job(twice)
            return job.state == "FAILED" && job.attempts.count == 2
        }
        let retried = try await cluster.job(twice)
        #expect(retried.attempts.map(\.exitCode) == [1, 1])
        // The retry waited out its backoff (issue 18: it used to come back within milliseconds).
        let ended = try #require(retried.attempts.first?.endedAt.flatMap(WireTime.parse))
        let again = try #require(retried.attempts.last.flatMap { WireTime.parse($0.allocatedAt) })
        #expect(again - ended >= .milliseconds(1900), "retried \(again - ended) after the failure")
        let events = try await cluster.events(twice)
        #expect(
            events.contains { $0.reason.contains("retry 1 of 1, not before 2.0 seconds from now") },
            "\(events.map(\.reason))"
        )
    }

    @Test func aDrainedNodeGetsNoNewJob() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("busy", gpus: 1)
        try await cluster.startAgent("spare", gpus: 1)
        try await cluster.configureCLI()
        try await waitUntil("both nodes are ready", timeout: 60) {
            (try await cluster.corral(["nodes"])).stdout.components(separatedBy: "READY").count == 3
        }
        let drain = try await cluster.corral(["drain", "spare", "--reason", "swapping a GPU"])
        #expect(drain.status == 0, "\(drain.stderr)")
        let nodes = try await cluster.corral(["nodes"])
        #expect(nodes.stdout.contains("DRAINED"))
        #expect(nodes.stdout.contains("swapping a GPU"))
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try await cluster.submit(["--gpus", "1"], ["true"])) }
        for id in ids {
            let job = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60)
            #expect(job.node == "busy")
        }
        #expect(try await cluster.corral(["resume", "spare"]).status == 0)
        #expect(!(try await cluster.corral(["nodes"])).stdout.contains("DRAINED"))
        // Unknown nodes and bad names are clear errors.
        let missing = try await cluster.corral(["drain", "no-such-node"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("corral nodes"))
    }

    @Test func theControllerEndsAJobAtItsTimeLimit() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        let id = try await cluster.submit(["--time-limit", "1s"], ["sleep", "60"])
        let job = try await cluster.waitForState(id, ["FAILED", "SUCCEEDED"], timeout: 30)
        #expect(job.state == "FAILED")
        #expect(job.message?.contains("TIMEOUT") == true, "\(job.message ?? "")")
    }

    @Test func theControllerEnforcesTimeLimitsEvenWhenTheAgentDoesNot() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()
        // A stand-in agent that accepts launches and reports them running, but never enforces anything.
        let agent = try await StandInAgent.register(cluster, node: "lazy")
        let id = try await cluster.submit(["--gpus", "1", "--time-limit", "1s"], ["sleep", "60"])
        let allocation = try await agent.acceptNextLaunch()
        #expect(allocation.hasPrefix(id))
        // At the limit the controller asks the agent to stop it; the job is not reported ended while its
        // process may still run: it stays RUNNING, its GPU held, until the agent says the process is gone.
        try await waitUntil("the controller asks for the stop", timeout: 30) {
            try await agent.pollStops(running: [allocation]).contains(allocation)
        }
        let stopping = try await cluster.job(id)
        #expect(stopping.state == "RUNNING")
        #expect(stopping.message?.contains("TIMEOUT") == true)
        let node = try await cluster.corral(["nodes", "--json"])
        #expect(node.stdout.contains("\"gpus_used\" : 1"))
        try await agent.report(allocation, AllocationStatusRequest(phase: .exited, signal: 15))
        let job = try await cluster.waitForState(id, ["FAILED", "SUCCEEDED"], timeout: 30)
        #expect(job.state == "FAILED")
        #expect(job.message?.contains("TIMEOUT") == true)
        try await waitUntil("the GPU is free again", timeout: 30) {
            (try await cluster.corral(["nodes", "--json"])).stdout.contains("\"gpus_used\" : 0")
        }
    }

    /// Issue 5: the agent is SIGKILLed while two jobs run and one of them ends while it is down. The restarted
    /// agent adopts the running one and learns the other's exit from its supervisor: both end with their true
    /// states and exit codes, each ran once, and both logs hold every byte the jobs wrote, once.
    @Test func aKilledAgentsJobsKeepRunningAndTheRestartedAgentAdoptsThem() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 2)
        try await cluster.configureCLI()
        let gate = cluster.root + "/gate"
        // `short` ends (exit 3) once the test opens the gate, which it does while the agent is down; `long`
        // keeps printing until its own gate opens, once the restarted agent has reported `short`'s end (a fixed
        // 120 lines can end, on a loaded machine, before the agent is killed).
        let short = try await cluster.submit(
            ["--gpus", "1", "--name", "short"],
            [
                "sh", "-c",
                "i=0; while [ ! -e \(gate) ]; do echo \"short $i\"; i=$((i+1)); sleep 0.05; done; echo done; exit 3",
            ]
        )
        let long = try await cluster.submit(
            ["--gpus", "1", "--name", "long"],
            [
                "sh", "-c",
                "i=0; while [ ! -e \(gate).long ]; do echo \"long $i\"; i=$((i+1)); sleep 0.05; done; echo done",
            ]
        )
        let shortPid = try #require(try await cluster.waitForState(short, ["RUNNING"]).attempts.last?.pid)
        let longPid = try #require(try await cluster.waitForState(long, ["RUNNING"]).attempts.last?.pid)

        let agent = try #require(cluster.agents["node"])
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()
        #expect(kill(-shortPid, 0) == 0 && kill(-longPid, 0) == 0, "jobs must outlive their agent")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        try await waitUntil("the short job ends while the agent is down", timeout: 30) { kill(-shortPid, 0) != 0 }
        #expect(kill(-longPid, 0) == 0)
        try await cluster.restartAgent("node")

        let shortDone = try await cluster.waitForState(short, ["SUCCEEDED", "FAILED"], timeout: 30)
        #expect(shortDone.state == "FAILED", "\(cluster.logs())")
        #expect(shortDone.exitCode == 3)
        #expect(shortDone.attempts.count == 1)
        _ = FileManager.default.createFile(atPath: gate + ".long", contents: nil)
        let longDone = try await cluster.waitForState(long, ["SUCCEEDED", "FAILED"], timeout: 30)
        #expect(longDone.state == "SUCCEEDED", "\(cluster.logs())")
        #expect(longDone.exitCode == 0)
        #expect(longDone.attempts.count == 1)
        #expect(longDone.attempts.last?.pid == longPid)

        // Byte for byte: what the jobs wrote (to their log files on the node) is what the controller stores: every
        // numbered line once, in order, then the last.
        for (job, name) in [(short, "short"), (long, "long")] {
            let log = try await cluster.corral(["logs", job]).stdout
            let lines = log.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count >= 3 && lines.suffix(2) == ["done", ""], "\(log.suffix(200))")
            #expect(log == (0..<max(lines.count - 2, 0)).map { "\(name) \($0)\n" }.joined() + "done\n")
        }
        #expect(cluster.logs().contains("adopted"))
        try await waitUntil("the agent forgets jobs the controller has the exits of", timeout: 30) {
            cluster.jobRecords(agentState: cluster.stateDir(agent: "node")).isEmpty
        }
    }

    /// A supervisor killed outright (by the OOM killer, say) cannot report: the agent sees it go, kills what is
    /// left of the job and reports the job failed, saying why.
    @Test func aJobWhoseSupervisorDiesIsKilledAndReported() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let id = try await cluster.submit(["--gpus", "1"], ["sleep", "600"])
        let pid = try #require(try await cluster.waitForState(id, ["RUNNING"]).attempts.last?.pid)
        let record = try #require(cluster.jobRecords(agentState: cluster.stateDir(agent: "node")).first)
        let supervisor = try #require(cluster.supervisorPID(record))
        kill(supervisor, SIGKILL)
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60)
        #expect(done.state == "FAILED")
        #expect(done.message?.contains("supervisor") == true, "\(done.message ?? "")")
        // Orphaned by its supervisor, the killed job is reaped by whatever adopts orphans here (not the agent):
        // count only processes that are not zombies.
        try await waitUntil("nothing of the job is left running", timeout: 30) { !processGroupRuns(pid) }
    }

    /// A supervisor that died while its agent was away, and a process group number that has since passed to
    /// another process: the agent ends the job through its cgroup, and leaves the other process alone. The number's
    /// reuse is staged: job.pid is made to name a bystander in a session of its own, as the kernel may do once the
    /// job's last process is gone. Root only (cgroups).
    @Test func aJobWhoseSupervisorDiedIsEndedByItsCgroupNotByANumberThatMayBeReused() async throws {
        guard getuid() == 0 else { return }
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        let id = try await cluster.submit([], ["sleep", "600"])
        let pid = try #require(try await cluster.waitForState(id, ["RUNNING"]).attempts.last?.pid)
        let record = try #require(cluster.jobRecords(agentState: cluster.stateDir(agent: "node")).first)
        let supervisor = try #require(cluster.supervisorPID(record))
        let bystander = try Bystander()
        defer { bystander.end() }
        #expect(getpgid(bystander.pid) == bystander.pid)
        let done = try await cluster.staleSupervisorDeath(
            of: id,
            agent: "node",
            record: record,
            supervisor: supervisor,
            bystander: bystander
        )
        #expect(done.state == "FAILED")
        #expect(done.message?.contains("supervisor") == true, "\(done.message ?? "")")
        try await waitUntil("nothing of the job is left running", timeout: 30) { !processGroupRuns(pid) }
        #expect(processRuns(bystander.pid), "the agent killed a process that was not the job's")
    }

    /// Supervisors are forked by one zygote process of the agent (cheap job starts); a zygote that dies is
    /// replaced at the next job, and the jobs it started are not affected.
    @Test func aDeadSupervisorZygoteIsReplaced() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        let running = try await cluster.submit([], ["sleep", "600"])
        let pid = try #require(try await cluster.waitForState(running, ["RUNNING"]).attempts.last?.pid)
        let agent = try #require(cluster.agents["node"]).processIdentifier
        let zygote = try #require(Self.children(of: agent).first { Self.commandLine($0).contains("supervise-zygote") })
        kill(zygote, SIGKILL)
        let next = try await cluster.submit([], ["sh", "-c", "echo after"])
        let done = try await cluster.waitForState(next, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED", "\(cluster.logs())")
        #expect(kill(pid, 0) == 0, "the job the dead zygote started runs on")
        #expect(try await cluster.job(running).state == "RUNNING")
        try await waitUntil("a new zygote serves the agent", timeout: 30) {
            Self.children(of: agent).contains { Self.commandLine($0).contains("supervise-zygote") && $0 != zygote }
        }
    }

    static func children(of parent: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent && fields[0] != "Z"
        }
    }

    static func commandLine(_ pid: Int32) -> String {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// `POST /v1/agents/{node}/status`, as the real agent sends its reports: applied in order, each answered
    /// on its own (a malformed id and another node's allocation are refused, the rest applied), bounded in size.
    @Test func batchedStatusReportsApplyInOrderEachOnItsOwn() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()
        let a = try await StandInAgent.register(cluster, node: "a")
        let b = try await StandInAgent.register(cluster, node: "b")
        let first = try await cluster.submit(["--gpus", "1"], ["true"])
        let second = try await cluster.submit(["--gpus", "1"], ["true"])
        var launches: [String: String] = [:]  // node -> allocation
        try await waitUntil("both jobs are handed out", timeout: 60) {
            for agent in [a, b] where launches[agent.node] == nil {
                launches[agent.node] = try await agent.assignments().launch.first?.allocationId
            }
            return launches.count == 2
        }
        let mine = try #require(launches["a"])
        let theirs = try #require(launches["b"])
        let batch = StatusBatchRequest(reports: [
            AllocationStatusReport(allocationId: mine, status: .init(phase: .starting)),
            AllocationStatusReport(allocationId: mine, status: .init(phase: .running, pid: 7)),
            AllocationStatusReport(allocationId: "not an id", status: .init(phase: .starting)),
            AllocationStatusReport(allocationId: theirs, status: .init(phase: .starting)),
            AllocationStatusReport(allocationId: mine, status: .init(phase: .exited, exitCode: 0)),
        ])
        let response = try await a.client.execute(.post, "/v1/agents/a/status", body: WireJSON.encode(batch))
        #expect(response.status == 200)
        let results = try JSONDecoder.wire.decode(StatusBatchResponse.self, from: Data(response.body)).results
        #expect(results.map(\.status) == [200, 200, 400, 403, 200])
        #expect(results.last?.response?.jobState == "SUCCEEDED")
        let done = try await cluster.job(mine.hasPrefix(first) ? first : second)
        #expect(done.state == "SUCCEEDED" && done.attempts.last?.pid == 7)
        #expect(try await cluster.job(mine.hasPrefix(first) ? second : first).state == "ALLOCATED")

        // Another node's route, too many reports, and a malformed body change nothing.
        #expect(try await a.client.execute(.post, "/v1/agents/b/status", body: WireJSON.encode(batch)).status == 403)
        let many = StatusBatchRequest(
            reports: Array(repeating: batch.reports[3], count: StatusBatchRequest.maxReports + 1)
        )
        #expect(try await a.client.execute(.post, "/v1/agents/a/status", body: WireJSON.encode(many)).status == 400)
        #expect(try await a.client.execute(.post, "/v1/agents/a/status", body: Array("{".utf8)).status == 400)
        #expect(try await cluster.job(mine.hasPrefix(first) ? second : first).state == "ALLOCATED")
    }

    /// `--kill-grace` is the job's own: a job that ignores SIGTERM is killed after its 1 s, not after the
    /// agent's default (set to 5 minutes here, far beyond the test's wait).
    @Test func aJobsOwnKillGraceIsHonoured() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        let config = cluster.root + "/node.toml"
        let settings = "kill_grace_seconds = 300\n" + cluster.read(config) + "\n"
        try settings.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)
        try await cluster.restartAgent("node")
        try await cluster.configureCLI()
        let id = try await cluster.submit(["--kill-grace", "1s"], ["sh", "-c", "trap '' TERM; echo ready; sleep 600"])
        let pid = try #require(try await cluster.waitForState(id, ["RUNNING"]).attempts.last?.pid)
        let record = try #require(cluster.jobRecords(agentState: cluster.stateDir(agent: "node")).first)
        #expect(cluster.read(record + "/launch.json").contains("\"graceSeconds\":1"))
        let cancel = try await cluster.corral(["cancel", id])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        try await waitUntil("the job's group is killed after its own grace", timeout: 60) { kill(-pid, 0) != 0 }
        #expect(try await cluster.job(id).state == "CANCELED")
        #expect(try await cluster.job(id).killGrace == 1)
    }
}
