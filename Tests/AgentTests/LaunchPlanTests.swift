import ClusterCore
import ClusterWire
import Foundation
import Glibc
import LinuxSystem
import Testing

@testable import AgentKit

/// The launch plan and the job's start against real processes (no GPU is touched: CUDA_VISIBLE_DEVICES is only
/// an environment variable to the process).
@Suite struct LaunchPlanTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("launcher-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func plan(
        _ command: [String],
        cwd: String? = nil,
        env: [String: String] = [:],
        agentEnvironment: [String: String] = ["PATH": "/usr/bin:/bin"],
        unixUser: String? = getuid() == 0 ? "root" : nil,
        lookup: (@Sendable (String) -> UnixAccount?)? = nil
    ) throws(LaunchError) -> LaunchPlan {
        let spec = LaunchSpec(
            allocationId: "job1.1",
            jobId: "job1",
            attempt: 1,
            name: "",
            user: "alice",
            command: command,
            cwd: cwd ?? directory,
            env: env,
            gpuIndices: [2, 3],
            cpus: 1,
            memory: 0,
            image: nil,
            timeLimit: nil,
            killGrace: nil,
            unixUser: unixUser
        )
        var settings = LaunchSettings(
            logDir: directory,
            leasePath: directory + "/lease",
            bootID: "boot",
            docker: nil,
            killGraceSeconds: 10,
            agentEnvironment: agentEnvironment,
            nodeID: "n1",
            agentUID: getuid(),
            containment: nil,
            gpuDevices: [:],
            deviceMask: directory + "/mask"
        )
        if let lookup { settings.lookup = lookup }
        return try LaunchPlan.make(spec, settings)
    }

    /// A container's working directory is mounted as it is: the account must be able to reach it on the node,
    /// and the variables that would steer the root-run docker client go to the container by value instead.
    @Test func containerJobsCannotReachPastTheirAccountOrSteerTheClient() throws {
        let nobody = UnixAccount(name: "nobody", uid: 65534, gid: 65534, groups: [65534], home: "/", shell: "")
        let closed = directory + "/closed"
        try FileManager.default.createDirectory(atPath: closed + "/inside", withIntermediateDirectories: true)
        chmod(closed, 0o700)
        chmod(directory, 0o755)
        #expect(throws: LaunchError.self) { try LaunchPlan.checkReachable(closed + "/inside", by: nobody) }
        try LaunchPlan.checkReachable(directory, by: nobody)
        #expect(ContainerJob.steersClient("LD_PRELOAD") && ContainerJob.steersClient("DOCKER_HOST"))
        #expect(ContainerJob.steersClient("PATH") && !ContainerJob.steersClient("WANDB_API_KEY"))
    }

    /// What a root agent refuses about accounts, whatever the controller sent.
    @Test(.enabled(if: getuid() == 0, "the agent's root-only rules"))
    func accountsARootAgentRefuses() throws {
        let toor = UnixAccount(name: "toor", uid: 0, gid: 0, groups: [0], home: "/root", shell: "/bin/sh")
        let cases: [(String?, String)] = [
            (nil, "named no Unix account"),
            ("toor", "has uid 0"),
            ("ghost", "no Unix account 'ghost' on node n1"),
            ("a/b", "not a Unix account name"),
        ]
        for (name, expected) in cases {
            do {
                _ = try plan(["true"], unixUser: name, lookup: { $0 == "toor" ? toor : nil })
                Issue.record("\(name ?? "no account") should be refused")
            } catch {
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }

    @Test func environmentHoldsTheJobsVariablesAndNoneOfTheAgentsSecrets() throws {
        let agent = ["PATH": "/usr/bin:/bin", "HOME": "/root", "CORRAL_CLUSTER_TOKEN": "secret", "AWS_SECRET": "x"]
        let plan = try plan(["true"], env: ["EPOCHS": "3"], agentEnvironment: agent)
        #expect(plan.environment["EPOCHS"] == "3")
        #expect(plan.environment["CUDA_VISIBLE_DEVICES"] == "2,3")
        #expect(plan.environment["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID")
        #expect(plan.environment["CORRAL_JOB_ID"] == "job1")
        #expect(plan.environment["CORRAL_ALLOCATION_ID"] == "job1.1")
        #expect(plan.environment["PATH"] == "/usr/bin:/bin")
        #expect(plan.environment["CORRAL_CLUSTER_TOKEN"] == nil)
        #expect(plan.environment["AWS_SECRET"] == nil)
        #expect(plan.executable == "/usr/bin/true" || plan.executable == "/bin/true")
    }

    @Test func launchFailuresSayWhatIsWrong() throws {
        #expect(throws: LaunchError.self) { try plan(["true"], cwd: directory + "/missing") }
        do {
            _ = try plan(["true"], cwd: directory + "/missing")
        } catch {
            #expect(error.message.contains("does not exist"))
        }
        _ = FileManager.default.createFile(atPath: directory + "/file", contents: Data())
        do {
            _ = try plan(["true"], cwd: directory + "/file")
            Issue.record("a file is not a working directory")
        } catch {
            #expect(error.message.contains("not a directory"))
        }
        do {
            _ = try plan(["no-such-command-xyz"])
            Issue.record("a missing command must fail")
        } catch {
            #expect(error.message == "command not found: no-such-command-xyz")
        }
        _ = FileManager.default.createFile(atPath: directory + "/script.sh", contents: Data("#!/bin/sh\n".utf8))
        chmod(directory + "/script.sh", 0o644)
        do {
            _ = try plan(["./script.sh"])
            Issue.record("a file without the execute bit must fail")
        } catch {
            #expect(error.message.contains("permission denied"))
        }
    }

    @Test func exitCodesAndSignalsComeBack() throws {
        let seven = try plan(["sh", "-c", "echo out; echo err >&2; exit 7"]).start()
        #expect(Self.wait(for: seven) == JobExit(code: 7))
        let killed = try plan(["sh", "-c", "kill -9 $$"]).start()
        #expect(Self.wait(for: killed) == JobExit(signal: 9))
        let log = try String(contentsOfFile: directory + "/job1.1.log", encoding: .utf8)
        #expect(log.contains("out\n"))
        #expect(log.contains("err\n"))
    }

    @Test func aJobLeadsItsOwnSessionAndItsWholeGroupIsSignalled() throws {
        let marker = directory + "/children"
        // The marker comes from the grandchild once it ignores SIGTERM (written by the parent, it could come
        // first on a loaded machine, and the SIGTERM below kill a grandchild not yet ignoring it).
        let pid = try plan([
            "sh", "-c",
            "sleep 300 & sleep 300 & sh -c 'trap \"\" TERM; echo started > \(marker); sleep 300' & wait",
        ]).start()
        #expect(getsid(pid) == pid)
        #expect(getpgid(pid) == pid)
        for _ in 0..<1500 where !FileManager.default.fileExists(atPath: marker) { usleep(20_000) }
        #expect(FileManager.default.fileExists(atPath: marker), "the grandchild never started")
        #expect(Processes.groupAlive(pid))
        Processes.signalGroup(pid, SIGTERM)
        _ = Self.wait(for: pid)
        // One grandchild ignores SIGTERM: it survives until SIGKILL, as the agent's grace period expects.
        usleep(100_000)
        #expect(Processes.groupAlive(pid))
        Processes.signalGroup(pid, SIGKILL)
        for _ in 0..<1500 where Processes.groupAlive(pid) { usleep(20_000) }
        #expect(!Processes.groupAlive(pid))
    }

    /// Waits for a spawned child (the supervisor does this for real jobs) and decodes its status.
    static func wait(for pid: pid_t) -> JobExit {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return JobExit(waitStatus: status)
    }
}

/// The lease file the supervisors fence by: the job must be dead before the controller's lease runs out.
@Suite struct LeaseFileTests {
    @Test func fencingStartsEarlyByTheGraceAndAMargin() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lease-\(UUID().uuidString)").path
        defer { unlink(path) }
        LeaseFile.renew(path, lease: .seconds(120), renewedAt: 1_000_000_000)
        // 120 s lease, 10 s grace: start at 120 - 10 - 12 (a tenth of the lease) = 98 s after the renewal.
        let normal = try #require(LeaseFile.fenceDeadline(path, grace: 10))
        #expect(normal.at == 1_000_000_000 + 98_000_000_000 && normal.grace == 10_000_000_000)
        // A grace longer than a quarter of the lease is cut to it when fencing: 120 - 30 - 12 = 78 s.
        let long = try #require(LeaseFile.fenceDeadline(path, grace: 3600))
        #expect(long.at == 1_000_000_000 + 78_000_000_000 && long.grace == 30_000_000_000)
    }

    @Test(arguments: ["", "12", "a b", "1 2 3", "1 x"])
    func anUnreadableLeaseFencesNothing(_ text: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lease-\(UUID().uuidString)").path
        defer { unlink(path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(LeaseFile.fenceDeadline(path, grace: 10) == nil)
        #expect(LeaseFile.fenceDeadline(path + ".missing", grace: 10) == nil)
    }
}
