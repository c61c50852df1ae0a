import ClusterWire
import Foundation
import Glibc
import Testing

/// Container jobs through the real controller, agent and CLI. This machine runs no Docker engine, so `docker`
/// is a stand-in script: it records every call's arguments (one per line), answers `version`, keeps what
/// `login` reads on stdin, and for `run` runs the command after the image in the `--workdir` (the job's
/// environment comes from its own, as the real CLI's `--env NAME` takes it). The arguments it records are
/// checked one by one; docs/operations.md shows how to check them against a real engine.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ContainerJobTests {
    static func standInDocker(in directory: String) throws -> String {
        let path = directory + "/docker"
        try writeExecutable(
            path,
            """
            #!/bin/sh
            # Stand-in for the docker CLI: this machine has no Docker engine.
            calls=\(directory)/calls
            mkdir -p "$calls"
            # Named by time and pid, so that names sort oldest first and a later call whose pid is reused (pids
            # wrap at 32,768 here) cannot overwrite an earlier one's record.
            record="$calls/$1-$(date +%s%N)-$$"
            for argument in "$@"; do printf '%s\\n' "$argument"; done > "$record"
            # What the GPU guard variable is for each call (docker passes it to the container by name).
            printf '%s\\n' "${NVIDIA_VISIBLE_DEVICES-unset}" > "$record.nvidia"
            case "$1" in
            version) echo "27.3.1" ;;
            login) cat > "$calls/login-stdin" ;;
            stop) kill -TERM "$(cat "$calls/run-$4.pid")" ;;
            run)
                shift
                workdir=/
                name=
                while [ $# -gt 0 ]; do
                    case "$1" in
                    --rm|--init) shift ;;
                    --workdir) workdir=$2; shift 2 ;;
                    --name) name=$2; shift 2 ;;
                    --*) shift 2 ;;
                    *) break ;;
                    esac
                done
                shift
                echo $$ > "$calls/run-$name.pid"
                cd "$workdir" && exec "$@" ;;
            *) echo "stand-in docker: unexpected $1" >&2; exit 1 ;;
            esac

            """
        )
        return path
    }

    /// The recorded arguments of the calls whose first argument is `command`, oldest first.
    static func calls(_ directory: String, _ command: String) -> [[String]] {
        let calls = directory + "/calls"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: calls)) ?? [])
            .filter { (command.isEmpty || $0.hasPrefix(command + "-")) && !$0.hasSuffix(".pid") }
            .filter { !$0.hasSuffix("-stdin") && !$0.hasSuffix(".nvidia") }
        return names.sorted().map { name in
            let text = (try? String(contentsOfFile: calls + "/" + name, encoding: .utf8)) ?? ""
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
    }

    /// NVIDIA_VISIBLE_DEVICES as the `docker run` that started container `name` had it ("unset" if not set).
    static func nvidiaDevices(_ directory: String, container name: String) -> String? {
        let calls = directory + "/calls"
        for file in (try? FileManager.default.contentsOfDirectory(atPath: calls)) ?? []
        where file.hasPrefix("run-") && !file.contains(".") {
            let arguments = (try? String(contentsOfFile: calls + "/" + file, encoding: .utf8)) ?? ""
            guard arguments.split(separator: "\n").contains(Substring(name)) else { continue }
            return (try? String(contentsOfFile: calls + "/" + file + ".nvidia", encoding: .utf8))?.trimmed
        }
        return nil
    }

    @Test func aContainerJobRunsThroughDockerWithItsGPUsEnvironmentAndRegistryLogin() async throws {
        let cluster = try TestCluster()
        let tools = cluster.root + "/tools"
        let work = cluster.root + "/work"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let docker = try Self.standInDocker(in: tools)
        let passwordFile = tools + "/registry.password"
        try "s3cret-pw\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        chmod(passwordFile, 0o600)
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 2)
        let config = cluster.root + "/node.toml"
        let settings =
            cluster.read(config)
            + "\n\n[containers]\ndocker = \"\(docker)\"\nregistry = \"registry.example.com\"\nusername = \"bot\"\n"
            + "password_file = \"\(passwordFile)\"\n"
        try settings.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)
        try await cluster.restartAgent("node")
        try await cluster.configureCLI()
        try await waitUntil("the node says it runs containers", timeout: 60) {
            (try await cluster.corral(["nodes", "show", "node"])).stdout.contains("corral.containers=docker")
        }

        let image = "registry.example.com/team/train:1.4"
        let id = try await cluster.submit(
            ["--image", image, "--gpus", "1", "--env", "FOO=bar-value", "--cwd", work],
            ["sh", "-c", "echo foo=$FOO in $(pwd) as job $CORRAL_JOB_ID"]
        )
        let done = try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"])
        #expect(done.state == "SUCCEEDED", "\(done.message ?? "")\n\(cluster.logs())")
        let logs = try await cluster.corral(["logs", id])
        #expect(logs.stdout == "foo=bar-value in \(work) as job \(id)\n")

        // Logged in once, the password through stdin only.
        #expect(
            Self.calls(tools, "login") == [["login", "--username", "bot", "--password-stdin", "registry.example.com"]]
        )
        #expect(cluster.read(tools + "/calls/login-stdin") == "s3cret-pw")
        let run = try #require(Self.calls(tools, "run").first)
        let gpu = try #require(done.gpuIndices.first)
        #expect(
            run == [
                "run", "--rm", "--name", "corral-\(id)-1", "--init", "--label", "corral.job=\(id)", "--label",
                "corral.allocation=\(id).1", "--gpus", "\"device=\(gpu)\"", "--cpus", "1", "--user",
                "\(getuid()):\(getgid())", "--security-opt", "no-new-privileges", "--cap-drop", "ALL", "--volume",
                "\(work):\(work)", "--workdir", work, "--env",
                "CORRAL_ALLOCATION_ID", "--env", "CORRAL_ATTEMPT", "--env", "CORRAL_JOB_ID", "--env", "FOO", image,
                "sh",
                "-c", "echo foo=$FOO in $(pwd) as job $CORRAL_JOB_ID",
            ]
        )
        // No secret and no environment value is ever an argument.
        let everyCall = Self.calls(tools, "")
        #expect(everyCall.count >= 2, "login and run were recorded: \(everyCall)")
        for call in everyCall {
            #expect(!call.contains { $0.contains("s3cret-pw") || $0.contains("bar-value") })
        }

        // Cancel goes through `docker stop` with the job's own grace period.
        let long = try await cluster.submit(
            ["--image", image, "--kill-grace", "3", "--cwd", work],
            ["sh", "-c", "echo started; sleep 600"]
        )
        _ = try await cluster.waitForState(long, ["RUNNING"])
        // A job that asked for no GPU gets none, whatever its image says (CUDA images default to all of them).
        #expect(Self.nvidiaDevices(tools, container: "corral-\(long)-1") == "void")
        #expect(Self.nvidiaDevices(tools, container: "corral-\(id)-1") == "unset")
        try await waitUntil("the container job has started", timeout: 60) {
            (try await cluster.corral(["logs", long])).stdout.contains("started")
        }
        // Its process on the node is the docker client, in the node's context: nothing of the job to enter.
        let exec = try await cluster.corral(["exec", long, "--", "true"])
        #expect(exec.status == 1 && exec.stderr.contains("runs in a container"), "\(exec.stderr)")
        #expect((try await cluster.corral(["cancel", long])).status == 0)
        // The stand-in creates its record before it writes it: wait for the arguments, not the file.
        try await waitUntil("docker stop was called", timeout: 60) { Self.calls(tools, "stop").first?.isEmpty == false }
        #expect(Self.calls(tools, "stop") == [["stop", "--time", "3", "corral-\(long)-1"]])
        // The job is CANCELED once the agent reports the container gone, not before. The stand-in's stop ends only
        // the client's shell: its `sleep` is left behind, and goes at once (not after the grace and the backstop).
        #expect(try await cluster.waitForState(long, ["CANCELED"], timeout: 60).state == "CANCELED")

        // preflight checks the engine when container jobs are on.
        let preflight = try await cluster.run("corral-agent", ["preflight", "--config", config])
        #expect(preflight.stdout.contains("docker") && preflight.stdout.contains("27.3.1"), "\(preflight.stdout)")
    }
}
