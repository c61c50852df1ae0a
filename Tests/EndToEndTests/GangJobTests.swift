import ClusterWire
import Foundation
import Glibc
import Testing

/// Gang jobs through the real binaries: three agents on this machine, each declaring 2 GPUs (there is no GPU
/// here, so the GPUs are the agent's declared stand-ins and CUDA_VISIBLE_DEVICES is what is checked).
@Suite(.serialized, .timeLimit(.minutes(4)))
struct GangJobTests {
    /// Starts the controller and three 2-GPU agents and waits until all three are READY.
    static func threeNodes() async throws -> TestCluster {
        let cluster = try TestCluster()
        try await cluster.startController()
        for name in ["node-a", "node-b", "node-c"] { try await cluster.startAgent(name, gpus: 2) }
        try await cluster.configureCLI()
        try await waitUntil("three nodes are ready", timeout: 30) {
            (try await cluster.corral(["nodes"])).stdout.components(separatedBy: "READY").count == 4
        }
        return cluster
    }

    /// Each rank writes its environment, then rank 0 listens on MASTER_ADDR:MASTER_PORT and rank 1 connects
    /// and says hello: a rendezvous as torch.distributed's TCP store does it, with no ML library.
    static let rendezvous = """
        import os, socket, sys, time
        out = sys.argv[1]
        rank = int(os.environ["RANK"])
        with open(f"{out}/rank-{rank}.env", "w") as f:
            for key in sorted(os.environ):
                f.write(f"{key}={os.environ[key]}\\n")
        with open(f"{out}/rank-{rank}.hostfile", "w") as f:
            f.write(open(os.environ["CORRAL_HOSTFILE"]).read())
        addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
        if rank == 0:
            server = socket.create_server((addr, port))
            server.settimeout(60)
            connection, _ = server.accept()
            hello = connection.recv(100).decode()
            connection.sendall(b"welcome")
            open(f"{out}/rank-0.heard", "w").write(hello)
            print("rank 0 heard", hello)
        else:
            deadline = time.time() + 60
            while True:
                try:
                    connection = socket.create_connection((addr, port), timeout=5)
                    break
                except OSError:
                    if time.time() > deadline: raise
                    time.sleep(0.2)
            connection.sendall(f"hello from rank {rank}".encode())
            answer = connection.recv(100).decode()
            print(f"rank {rank} got", answer)
            sys.exit(0 if answer == "welcome" else 3)
        """

    static func environment(_ path: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    @Test func twoRanksSeeOneRendezvousAndMeetOverTCP() async throws {
        let cluster = try await Self.threeNodes()
        let out = cluster.root + "/gang-out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let script = cluster.root + "/rendezvous.py"
        try Self.rendezvous.write(toFile: script, atomically: true, encoding: .utf8)
        let id = try await cluster.submit(
            ["--nodes", "2", "--gpus-per-node", "2", "--name", "ddp"],
            ["python3", script, out]
        )
        let listing = try await cluster.corral(["ls", "--all"])
        #expect(listing.stdout.contains("2x2"), "\(listing.stdout)")
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 90)
        #expect(done.state == "SUCCEEDED", "\(done.message ?? "")\n\(cluster.logs())")
        let ranks = try #require(done.ranks)
        #expect(ranks.count == 2)
        #expect(Set(ranks.map(\.node)).count == 2, "two ranks on one node: \(ranks)")
        #expect(ranks.allSatisfy { $0.state == "EXITED" && $0.exitCode == 0 })
        let zero = Self.environment(out + "/rank-0.env")
        let one = Self.environment(out + "/rank-1.env")
        for key in ["MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "NNODES", "GPUS_PER_NODE", "CORRAL_NODELIST"] {
            #expect(zero[key] != nil && zero[key] == one[key], "\(key): \(zero[key] ?? "-") vs \(one[key] ?? "-")")
        }
        #expect(zero["WORLD_SIZE"] == "2" && zero["GPUS_PER_NODE"] == "2")
        #expect(zero["RANK"] == "0" && one["RANK"] == "1" && one["NODE_RANK"] == "1")
        #expect(zero["CUDA_VISIBLE_DEVICES"] == "0,1" && one["CUDA_VISIBLE_DEVICES"] == "0,1")
        #expect(zero["CORRAL_ALLOCATION_ID"] != one["CORRAL_ALLOCATION_ID"])
        // The hostfile lists both nodes, rank 0's first, in MPI's format.
        let hostfile = try #require(zero["CORRAL_HOSTFILE"])
        #expect(hostfile.hasPrefix("/tmp/corral-hostfile-"))
        let address = try #require(zero["MASTER_ADDR"])
        #expect(cluster.read(out + "/rank-0.hostfile") == "\(address) slots=2\n\(address) slots=2")
        #expect(cluster.read(out + "/rank-1.hostfile") == cluster.read(out + "/rank-0.hostfile"))
        // Each rank's hostfile goes with its allocation's record, once the job's end is reported.
        try await waitUntil("the hostfiles are removed", timeout: 60) {
            !FileManager.default.fileExists(atPath: hostfile)
                && !FileManager.default.fileExists(atPath: one["CORRAL_HOSTFILE"] ?? "")
        }
        #expect(try String(contentsOfFile: out + "/rank-0.heard", encoding: .utf8) == "hello from rank 1")
        // Logs: merged with a rank prefix, or one rank's alone.
        let logs = try await cluster.corral(["logs", id])
        #expect(logs.stdout.contains("[rank 0] rank 0 heard hello from rank 1"), "\(logs.stdout)")
        #expect(logs.stdout.contains("[rank 1] rank 1 got welcome"), "\(logs.stdout)")
        let one1 = try await cluster.corral(["logs", "--rank", "1", id])
        #expect(one1.stdout == "rank 1 got welcome\n", "\(one1.stdout)")
        let show = try await cluster.corral(["show", id])
        #expect(show.stdout.contains("ranks:") && show.stdout.contains("2 nodes, each 2 GPUs"), "\(show.stdout)")
        let bad = try await cluster.corral(["logs", "--rank", "2", id])
        #expect(bad.status != 0 && bad.stderr.contains("--rank goes from 0 to 1"), "\(bad.stderr)")
    }

    @Test func killingOneRankFailsTheAttemptStopsTheOtherAndRetriesTheGang() async throws {
        let cluster = try await Self.threeNodes()
        let out = cluster.root + "/pids"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let id = try await cluster.submit(
            ["--nodes", "2", "--gpus-per-node", "1", "--retries", "1"],
            [
                "sh", "-c",
                "echo start $RANK $CORRAL_ATTEMPT; echo $$ > \(out)/pid-$RANK-$CORRAL_ATTEMPT; exec sleep 300",
            ]
        )
        _ = try await cluster.waitForState(id, ["RUNNING"], timeout: 30)
        try await waitUntil("both ranks wrote their pids", timeout: 30) {
            FileManager.default.fileExists(atPath: out + "/pid-0-1")
                && FileManager.default.fileExists(atPath: out + "/pid-1-1")
        }
        let rank0 = try #require(Int32(cluster.read(out + "/pid-0-1")))
        let rank1 = try #require(Int32(cluster.read(out + "/pid-1-1")))
        kill(rank1, SIGKILL)
        // The whole gang comes back as attempt 2; rank 0 of attempt 1 was stopped first.
        let retried = try await cluster.waitForState(id, ["RUNNING"], timeout: 60, attempt: 2)
        #expect(!processRuns(rank0), "rank 0 of the failed attempt still runs")
        let first = try #require(retried.attempts.first)
        #expect(first.state == "FAILED")
        #expect(first.failedRank == 1)
        #expect(
            first.message?.contains("killed by SIGKILL") == true && first.message?.contains("rank 1 on node-") == true,
            "\(first.message ?? "")"
        )
        #expect(first.ranks?.first { $0.rank == 1 }?.signal == "SIGKILL")
        try await waitUntil("attempt 2's ranks run", timeout: 30) {
            FileManager.default.fileExists(atPath: out + "/pid-0-2")
                && FileManager.default.fileExists(atPath: out + "/pid-1-2")
        }
        // The first attempt's logs stay readable (issue 18): one rank's, and the ranks merged.
        let earlier = try await cluster.corral(["logs", "--attempt", "1", "--rank", "1", id])
        #expect(earlier.stdout == "start 1 1\n", "\(earlier.stdout) \(earlier.stderr)")
        let merged = try await cluster.corral(["logs", "--attempt", "1", id])
        #expect(merged.stdout.contains("[rank 0] start 0 1") && merged.stdout.contains("[rank 1] start 1 1"))
        let shown = try await cluster.corral(["show", id])
        #expect(shown.stdout.contains("retries:") && shown.stdout.contains("up to 1"), "\(shown.stdout)")
        let events = try await cluster.events(id)
        #expect(
            events.contains { $0.reason.contains("rank 1 on node-") && $0.reason.contains("stopping the other ranks") }
        )
        // Cancel stops every rank.
        let cancel = try await cluster.corral(["cancel", id])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let canceled = try await cluster.waitForState(id, ["CANCELED"], timeout: 30)
        #expect(canceled.ranks?.allSatisfy { $0.endedAt != nil } == true)
        for rank in 0...1 {
            if let pid = Int32(cluster.read(out + "/pid-\(rank)-2")) {
                #expect(!processRuns(pid), "rank \(rank) runs on")
            }
        }
    }

    @Test func aGangBiggerThanTheClusterWaitsAndExplainSaysWhy() async throws {
        let cluster = try await Self.threeNodes()
        let id = try await cluster.submit(["--nodes", "4", "--gpus-per-node", "2"], ["true"])
        try await waitUntil("the gang has a reason", timeout: 30) {
            (try await cluster.job(id)).reason == "NoFeasibleNode"
        }
        let explain = try await cluster.corral(["explain", id])
        #expect(explain.stdout.contains("it needs 4 nodes and the cluster has 3"), "\(explain.stdout)")
        // Per-node fields are asked for explicitly: --gpus with --nodes is refused, saying what to use.
        let refused = try await cluster.corral(["submit", "--nodes", "2", "--gpus", "2", "--", "true"])
        #expect(refused.status != 0 && refused.stderr.contains("gpus_per_node"), "\(refused.stderr)")
        // A rank variable of the job's own is refused for gangs.
        let reserved = try await cluster.corral(["submit", "--nodes", "2", "--env", "RANK=5", "--", "true"])
        #expect(reserved.status != 0 && reserved.stderr.contains("RANK is set by Corral"), "\(reserved.stderr)")
    }

    /// kill -9 of the controller, then of one rank's agent, while a gang runs: both ranks go on, every rank's
    /// exit code is kept, and the job ends SUCCEEDED once, with one attempt.
    @Test func aGangSurvivesAControllerAndAnAgentKilledWhileItRuns() async throws {
        let cluster = try await Self.threeNodes()
        let out = cluster.root + "/survive"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // The ranks run until both kills are done (the file `go`): a fixed 4 s could end, on a loaded machine,
        // before the test saw the gang RUNNING.
        let id = try await cluster.submit(
            ["--nodes", "2", "--gpus-per-node", "1"],
            [
                "sh", "-c",
                "echo $$ > \(out)/pid-$RANK; while [ ! -e \(out)/go ]; do sleep 0.1; done; echo rank $RANK done",
            ]
        )
        let running = try await cluster.waitForState(id, ["RUNNING"], timeout: 30)
        let rankNodes = try #require(running.ranks).map(\.node)
        cluster.killController()
        try await cluster.startController()
        try await cluster.restartAgent(rankNodes[1])
        _ = FileManager.default.createFile(atPath: out + "/go", contents: nil)
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED", "LOST"], timeout: 60)
        #expect(done.state == "SUCCEEDED", "\(done.message ?? "")\n\(cluster.logs())")
        #expect(done.attempts.count == 1)
        #expect(done.ranks?.allSatisfy { $0.exitCode == 0 && $0.state == "EXITED" } == true, "\(done.ranks ?? [])")
        let logs = try await cluster.corral(["logs", id])
        #expect(
            logs.stdout.contains("[rank 0] rank 0 done") && logs.stdout.contains("[rank 1] rank 1 done"),
            "\(logs.stdout)"
        )
    }
}
