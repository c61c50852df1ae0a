import ClusterWire
import Glibc
import LinuxSystem
import Testing

@testable import AgentKit

/// The docker command lines of container jobs, argument by argument. No Docker engine runs on this machine:
/// these are checked as text here, run against a stand-in `docker` end to end (ContainerJobTests in
/// EndToEndTests), and docs/operations.md shows how to check them on a real node.
@Suite struct ContainerJobTests {
    static func spec(gpus: [Int] = [2, 3], memory: Int64 = 64 << 30, env: [String: String] = [:]) -> LaunchSpec {
        LaunchSpec(
            allocationId: "k3xq9mz2ab.2",
            jobId: "k3xq9mz2ab",
            attempt: 2,
            name: "train",
            user: "ada",
            command: ["python", "train.py", "--epochs", "3"],
            cwd: "/home/ada/run 1",
            env: env,
            gpuIndices: gpus,
            cpus: 8,
            memory: memory,
            image: "registry.example.com/team/train:1.4",
            timeLimit: nil
        )
    }

    @Test func runArgumentsForAGPUJob() {
        let spec = Self.spec(env: ["WANDB_API_KEY": "secret-value", "A": "1"])
        let arguments = ContainerJob.runArguments(
            docker: "/usr/bin/docker",
            spec: spec,
            environmentNames: ContainerJob.environmentNames(spec),
            account: UnixAccount(
                name: "ada",
                uid: 1000,
                gid: 1001,
                groups: [1001, 27],
                home: "/home/ada",
                shell: "/bin/sh"
            )
        )
        #expect(
            arguments == [
                "/usr/bin/docker", "run", "--rm", "--name", "corral-k3xq9mz2ab-2", "--init",
                "--label", "corral.job=k3xq9mz2ab", "--label", "corral.allocation=k3xq9mz2ab.2",
                "--gpus", "\"device=2,3\"", "--cpus", "8", "--memory", "\(64 << 30)", "--user", "1000:1001",
                "--group-add", "27", "--security-opt", "no-new-privileges", "--cap-drop", "ALL",
                "--volume", "/home/ada/run 1:/home/ada/run 1", "--workdir", "/home/ada/run 1",
                "--env", "A", "--env", "CORRAL_ALLOCATION_ID", "--env", "CORRAL_ATTEMPT", "--env", "CORRAL_JOB_ID",
                "--env", "WANDB_API_KEY",
                "registry.example.com/team/train:1.4", "python", "train.py", "--epochs", "3",
            ]
        )
        // Values reach docker through its environment, never its arguments (which every user's ps shows).
        #expect(!arguments.joined(separator: " ").contains("secret-value"))
    }

    @Test func aJobWithoutGPUsSeesNone() {
        let spec = Self.spec(gpus: [], memory: 0)
        let arguments = ContainerJob.runArguments(
            docker: "docker",
            spec: spec,
            environmentNames: ContainerJob.environmentNames(spec),
            account: UnixAccount(name: "root", uid: 0, gid: 0, groups: [0], home: "/root", shell: "/bin/sh")
        )
        #expect(!arguments.contains("--gpus"))
        #expect(!arguments.contains("--memory"))
        // CUDA images set NVIDIA_VISIBLE_DEVICES=all; the agent passes "void" so the job gets no GPU.
        #expect(ContainerJob.environmentNames(spec).contains("NVIDIA_VISIBLE_DEVICES"))
        #expect(!ContainerJob.environmentNames(Self.spec()).contains("NVIDIA_VISIBLE_DEVICES"))
        #expect(!ContainerJob.environmentNames(Self.spec()).contains("CUDA_VISIBLE_DEVICES"))
    }

    @Test func stopAndLoginArguments() {
        #expect(
            ContainerJob.stopArguments(docker: "/usr/bin/docker", allocationID: "abc.1", grace: 30)
                == ["/usr/bin/docker", "stop", "--time", "30", "corral-abc-1"]
        )
        #expect(
            ContainerJob.loginArguments(registry: "ghcr.io", username: "bot")
                == ["login", "--username", "bot", "--password-stdin", "ghcr.io"]
        )
    }
}
