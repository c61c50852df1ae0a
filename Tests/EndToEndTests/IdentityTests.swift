import ClusterWire
import Foundation
import Glibc
import LinuxSystem
import Testing

/// Jobs belong to their users: real Unix accounts (made here with useradd, removed afterwards), the real
/// binaries, real cgroups (a tree of this test's own below the test process's cgroup), and a private mount
/// namespace per job. Needs root, as CI has. GPUs are stand-ins: this machine has none, so the agent's device
/// directory holds character devices made here with the numbers of /dev/full and /dev/random (opening a visible
/// one succeeds; a job needs neither).
@Suite(.serialized, .timeLimit(.minutes(4)), .enabled(if: getuid() == 0, "needs root: Unix accounts and cgroups"))
struct IdentityTests {
    struct Setup {
        let cluster: TestCluster
        let accounts: TestAccounts
        let alice: UnixAccount
        let bob: UnixAccount
        let aliceToken: String
        let bobToken: String
        let work: String
        let devices: String
    }

    /// A controller that maps users only as tokens say (no trusted-team root), one agent with two declared
    /// GPUs whose device nodes are stand-ins, and alice and bob with accounts and work directories of their own.
    static func setUp() async throws -> Setup {
        let cluster = try TestCluster()
        let accounts = TestAccounts()
        let alice = try accounts.make("alice")
        let bob = try accounts.make("bob")
        let devices = cluster.root + "/dev"
        try FileManager.default.createDirectory(atPath: devices, withIntermediateDirectories: true)
        for (index, minor) in [(0, 7), (1, 8)] {
            #expect(mknod(devices + "/nvidia\(index)", S_IFCHR | 0o666, dev_t((1 << 8) | minor)) == 0)
            chmod(devices + "/nvidia\(index)", 0o666)
        }
        let work = cluster.root + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try makeDirectory(work + "/alice", owner: alice)
        try makeDirectory(work + "/bob", owner: bob)
        try await cluster.startController(accounts: [])
        try await cluster.startAgent("n1", gpus: 2, extra: ["--gpu-device-dir", devices])
        try await cluster.configureCLI()
        let aliceToken = try await token(cluster, user: "alice", account: alice.name)
        let bobToken = try await token(cluster, user: "bob", account: bob.name)
        return Setup(
            cluster: cluster,
            accounts: accounts,
            alice: alice,
            bob: bob,
            aliceToken: aliceToken,
            bobToken: bobToken,
            work: work,
            devices: devices
        )
    }

    /// Whether this machine mounts cgroup v1's devices controller (the hybrid layout here does).
    static var hasDevicesController: Bool { CgroupLayout.detect().v1["devices"] != nil }

    static func token(_ cluster: TestCluster, user: String, account: String) async throws -> String {
        let created = try await cluster.corral(["tokens", "create", "--user", user, "--unix-user", account, "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        return try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
    }

    static func submit(
        _ cluster: TestCluster,
        _ token: String,
        _ options: [String],
        _ script: String
    ) async throws -> String {
        let result = try await cluster.corral(
            ["submit"] + options + ["--", "/bin/sh", "-c", script],
            env: ["CORRAL_TOKEN": token]
        )
        #expect(result.status == 0, "submit failed: \(result.stderr)")
        return result.stdout.trimmed
    }

    static func logs(_ cluster: TestCluster, _ token: String, _ id: String) async throws -> String {
        try await cluster.corral(["logs", id], env: ["CORRAL_TOKEN": token]).stdout
    }

    @Test func jobsRunAsTheirUsersAndReachNothingOfOthers() async throws {
        let setup = try await Self.setUp()
        let cluster = setup.cluster
        let secret = setup.work + "/bob/secret"
        try "bob's secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        chown(secret, setup.bob.uid, setup.bob.gid)
        chmod(secret, 0o600)
        let bobsJob = try await Self.submit(cluster, setup.bobToken, ["--cwd", setup.work + "/bob"], "exec sleep 300")
        let running = try await cluster.waitForState(bobsJob, ["RUNNING"])
        let bobPID = try #require(running.attempts.last?.pid)
        // The log of bob's job is bob's.
        var info = stat()
        #expect(stat(cluster.stateDir(agent: "n1") + "/logs/\(bobsJob).1.log", &info) == 0)
        #expect(info.st_uid == setup.bob.uid)

        let state = cluster.stateDir(agent: "n1")
        let script = """
            echo uid=$(id -u) gid=$(id -g) groups=$(id -G)
            echo home=$HOME user=$USER logname=$LOGNAME
            cat \(secret) >/dev/null 2>&1 && echo bob-file=read || echo bob-file=denied
            kill -0 \(bobPID) 2>/dev/null && echo bob-job=signalled || echo bob-job=denied
            ls \(state) >/dev/null 2>&1 && echo agent-state=read || echo agent-state=denied
            cat \(cluster.root)/n1.toml >/dev/null 2>&1 && echo agent-config=read || echo agent-config=denied
            cat \(cluster.dataDir)/cluster.token >/dev/null 2>&1 && echo join-token=read || echo join-token=denied
            echo agent-variables=$(env | grep -c -e CLUSTER_TOKEN -e CORRAL_TOKEN)
            grep -c \(cluster.cgroupRoot)/n1/ /proc/self/cgroup
            """
        let id = try await Self.submit(cluster, setup.aliceToken, ["--cwd", setup.work + "/alice"], script)
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED", "\(done.message ?? "")")
        #expect(done.unixUser == setup.alice.name)
        let output = try await Self.logs(cluster, setup.aliceToken, id)
        let groups = setup.alice.groups.map(String.init).joined(separator: " ")
        #expect(output.contains("uid=\(setup.alice.uid) gid=\(setup.alice.gid) groups=\(groups)\n"), "\(output)")
        #expect(output.contains("home=/nonexistent user=\(setup.alice.name) logname=\(setup.alice.name)\n"))
        for line in [
            "bob-file=denied", "bob-job=denied", "agent-state=denied", "agent-config=denied", "join-token=denied",
            "agent-variables=0",
        ] {
            #expect(output.contains(line + "\n"), "\(line) in \(output)")
        }
        // In its own cgroup below the agent's, in every hierarchy the agent uses (v2 and v1 memory, cpu here).
        let lines = output.split(separator: "\n")
        #expect(Int(lines.last ?? "") ?? 0 >= 1, "\(output)")
        // `corral show` says whose account it ran as.
        let shown = try await cluster.corral(["show", id], env: ["CORRAL_TOKEN": setup.aliceToken])
        #expect(shown.stdout.contains("Unix account \(setup.alice.name)"), "\(shown.stdout)")
        #expect((try await cluster.corral(["cancel", bobsJob], env: ["CORRAL_TOKEN": setup.bobToken])).status == 0)
        _ = try await cluster.waitForState(bobsJob, ["CANCELED"])
    }

    @Test func aCancelLeavesNoProcessBehindEvenOneThatCalledSetsid() async throws {
        let setup = try await Self.setUp()
        let cluster = setup.cluster
        let marker = setup.work + "/alice/escaped.pid"
        // Double fork, a new session: nothing of this is in the job's process group any more.
        let script = "sh -c 'setsid sleep 1000 & echo $! > \(marker)' & exec sleep 1000"
        let id = try await Self.submit(cluster, setup.aliceToken, ["--cwd", setup.work + "/alice"], script)
        _ = try await cluster.waitForState(id, ["RUNNING"])
        try await waitUntil("the escaped process is started", timeout: 60) {
            Int32(cluster.read(marker)) != nil
        }
        let escaped = try #require(Int32(cluster.read(marker)))
        #expect(processRuns(escaped))
        let leader = try #require(try await cluster.job(id).attempts.last?.pid)
        #expect(getsid(escaped) != getsid(leader), "the process left the job's session")
        #expect(cluster.read("/proc/\(escaped)/cgroup").contains(cluster.cgroupRoot))
        #expect((try await cluster.corral(["cancel", id], env: ["CORRAL_TOKEN": setup.aliceToken])).status == 0)
        _ = try await cluster.waitForState(id, ["CANCELED"])
        // CANCELED only once nothing of the job runs, the escaped process included.
        #expect(!processRuns(escaped), "pid \(escaped) outlived its job")
    }

    @Test func aJobPastItsMemoryIsOutOfMemoryAndItsNeighbourRunsOn() async throws {
        let setup = try await Self.setUp()
        let cluster = setup.cluster
        let cwd = ["--cwd", setup.work + "/alice", "--mem", "64M"]
        let neighbour = try await Self.submit(cluster, setup.aliceToken, cwd, "sleep 3; echo neighbour-ok")
        let hungry = try await Self.submit(
            cluster,
            setup.aliceToken,
            cwd,
            "exec /usr/bin/python3 -c 'b = bytearray(512 << 20); print(\"survived\")'"
        )
        let ended = try await cluster.waitForState(hungry, ["SUCCEEDED", "FAILED"])
        #expect(ended.state == "FAILED")
        #expect(ended.exitReason == "OUT_OF_MEMORY", "\(ended.message ?? "")")
        #expect(ended.message?.contains("OUT_OF_MEMORY") == true, "\(ended.message ?? "")")
        #expect(!(try await Self.logs(cluster, setup.aliceToken, hungry)).contains("survived"))
        let next = try await cluster.waitForState(neighbour, ["SUCCEEDED", "FAILED"])
        #expect(next.state == "SUCCEEDED")
        #expect(try await Self.logs(cluster, setup.aliceToken, neighbour) == "neighbour-ok\n")
    }

    @Test func aJobCanOpenOnlyTheGPUsItWasGiven() async throws {
        let setup = try await Self.setUp()
        let cluster = setup.cluster
        // A process of alice's own outside any job: its /proc/PID/root is the node's, mount namespace or not.
        var outside = JobSpawn(executable: "/bin/sleep", arguments: ["sleep", "60"], environment: [:])
        outside.account = setup.alice
        outside.workingDirectory = "/"
        let bystander = try Processes.spawn(outside)
        defer {
            kill(bystander, SIGKILL)
            var status: Int32 = 0
            waitpid(bystander, &status, 0)
        }
        let probe = """
            for i in 0 1; do
                if (exec 3<\(setup.devices)/nvidia$i) 2>/dev/null; then echo gpu$i=open; else echo gpu$i=denied; fi
                if (exec 3</proc/\(bystander)/root\(setup.devices)/nvidia$i) 2>/dev/null; then echo around$i=open
                else echo around$i=denied; fi
            done
            echo visible=$CUDA_VISIBLE_DEVICES
            sleep 2
            """
        let options = ["--cwd", setup.work + "/alice", "--gpus", "1"]
        let first = try await Self.submit(cluster, setup.aliceToken, options, probe)
        let second = try await Self.submit(cluster, setup.aliceToken, options, probe)
        for id in [first, second] {
            let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"])
            #expect(done.state == "SUCCEEDED", "\(done.message ?? "")")
            let mine = try #require(done.gpuIndices.first)
            let output = try await Self.logs(cluster, setup.aliceToken, id)
            #expect(output.contains("gpu\(mine)=open\n"), "\(output)")
            #expect(output.contains("gpu\(1 - mine)=denied\n"), "\(output)")
            // Around the mount namespace (through another process's root), v1's devices cgroup still says no.
            if Self.hasDevicesController {
                #expect(output.contains("around\(1 - mine)=denied\n"), "\(output)")
                #expect(output.contains("around\(mine)=open\n"), "\(output)")
            }
            #expect(output.contains("visible=\(mine)\n"), "\(output)")
        }
        // On the node itself nothing was hidden: the stand-ins are still open to everyone.
        #expect(access(setup.devices + "/nvidia0", R_OK) == 0)
    }

    @Test func badAccountsAreRefusedAndNothingStarts() async throws {
        let setup = try await Self.setUp()
        let cluster = setup.cluster
        for hostile in ["x;rm -rf /", "../../etc/passwd", "$(id)", "-rf", String(repeating: "a", count: 40)] {
            let refused = try await cluster.corral(["tokens", "create", "--user", "mallory", "--unix-user", hostile])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("not a valid Unix account name"), "\(refused.stderr)")
        }
        let root = try await cluster.corral(["tokens", "create", "--user", "mallory", "--unix-user", "root"])
        #expect(root.status != 0)
        #expect(root.stderr.contains("would run as root"), "\(root.stderr)")
        #expect(!(try await cluster.corral(["tokens", "list"])).stdout.contains("mallory"))

        // An account the node does not have: a launch failure naming it and the node, not retried.
        let ghost = try await Self.token(cluster, user: "dave", account: "ctnosuchaccount")
        let id = try await Self.submit(cluster, ghost, ["--cwd", "/"], "echo never")
        let failed = try await cluster.waitForState(id, ["FAILED", "SUCCEEDED"])
        #expect(failed.state == "FAILED")
        #expect(
            failed.message?.contains("no Unix account 'ctnosuchaccount' on node n1") == true,
            "\(failed.message ?? "")"
        )
        #expect(failed.attempts.count == 1)

        // A controller setting with path or shell characters does not start.
        let bad = try await cluster.run(
            "corral-controller",
            ["--data-dir", cluster.root + "/bad", "--default-unix-user", "a/b"]
        )
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--default-unix-user"), "\(bad.stderr)")
        let file = cluster.root + "/bad.toml"
        try "[accounts.map]\nbob = \"$(reboot)\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let badFile = try await cluster.run(
            "corral-controller",
            ["--config", file, "--data-dir", cluster.root + "/bad"]
        )
        #expect(badFile.status != 0)
        #expect(badFile.stderr.contains("accounts.map.bob"), "\(badFile.stderr)")
    }
}
