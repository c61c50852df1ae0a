import ClusterWire
import Foundation
import Glibc
import LinuxSystem
import Testing

/// `corral exec` into a running job, with real accounts, cgroups and mount namespaces (as IdentityTests; needs
/// root). The command reaches the node over the agent's long poll: the node opens no port.
@Suite(.serialized, .timeLimit(.minutes(3)), .enabled(if: getuid() == 0, "needs root: Unix accounts and cgroups"))
struct ExecTests {
    @Test func execRunsInTheJobsContextForItsOwnerOnly() async throws {
        let setup = try await IdentityTests.setUp()
        let cluster = setup.cluster
        let token = ["CORRAL_TOKEN": setup.aliceToken]
        let id = try await IdentityTests.submit(
            cluster,
            setup.aliceToken,
            ["--cwd", setup.work + "/alice", "--gpus", "1"],
            "echo ready; exec sleep 300"
        )
        let running = try await cluster.waitForState(id, ["RUNNING"])
        let gpu = try #require(running.gpuIndices.first)
        let script = """
            echo uid=$(id -u) cwd=$(pwd) gpus=$CUDA_VISIBLE_DEVICES
            grep -c \(cluster.cgroupRoot)/n1/\(id).1 /proc/self/cgroup
            (exec 3<\(setup.devices)/nvidia\(1 - gpu)) 2>/dev/null && echo other-gpu=open || echo other-gpu=denied
            echo to-stderr >&2
            exit 7
            """
        let result = try await cluster.corral(["exec", id, "--", "/bin/sh", "-c", script], env: token)
        #expect(result.status == 7, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "uid=\(setup.alice.uid) cwd=\(setup.work)/alice gpus=\(gpu)", "\(result.stdout)")
        #expect(Int(lines.count > 1 ? lines[1] : "") ?? 0 >= 1, "\(result.stdout)")
        #expect(lines.contains("other-gpu=denied"), "\(result.stdout)")
        #expect(lines.contains("to-stderr"), "stdout and stderr both come back: \(result.stdout)")

        // A signal's exit code is 128 + N, as a shell's.
        let killed = try await cluster.corral(["exec", id, "--", "/bin/sh", "-c", "kill -TERM $$"], env: token)
        #expect(killed.status == 128 + SIGTERM)

        // Bob is told the job does not exist, as for any job of another user.
        let bob = try await cluster.corral(["exec", id, "--", "/bin/true"], env: ["CORRAL_TOKEN": setup.bobToken])
        #expect(bob.status == 1)
        #expect(bob.stderr.contains("no job"), "\(bob.stderr)")

        // Recorded in the job's events.
        let events = try await cluster.events(id)
        #expect(events.contains { $0.reason.contains("exec by alice") && $0.reason.contains("/bin/sh") })

        // Refusals: a rank the job does not have, a terminal, no command, a command that is not there.
        let rank = try await cluster.corral(["exec", id, "--rank", "1", "--", "/bin/true"], env: token)
        #expect(rank.status == 1 && rank.stderr.contains("no rank 1"), "\(rank.stderr)")
        let tty = try await cluster.corral(["exec", "-t", id, "--", "/bin/sh"], env: token)
        #expect(tty.status == 2)
        let none = try await cluster.corral(["exec", id], env: token)
        #expect(none.status == 2)
        let missing = try await cluster.corral(["exec", id, "--", "no-such-command-x"], env: token)
        #expect(missing.status == 1 && missing.stderr.contains("command not found"), "\(missing.stderr)")

        // Once the job has ended there is nothing to exec into.
        #expect((try await cluster.corral(["cancel", id], env: token)).status == 0)
        _ = try await cluster.waitForState(id, ["CANCELED"])
        let after = try await cluster.corral(["exec", id, "--", "/bin/true"], env: token)
        #expect(after.status == 1 && after.stderr.contains("not RUNNING"), "\(after.stderr)")
    }
}
