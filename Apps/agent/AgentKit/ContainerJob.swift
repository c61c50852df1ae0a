import ClusterWire
import Glibc
import LinuxSystem

/// Container jobs (`image` set) through the `docker` CLI: the command lines, built apart from running them
/// so that tests can check them argument by argument (no Docker engine runs on the build machine).
///
/// The job's environment reaches the container by name only (`-e NAME`): docker copies each value from its
/// own environment, which the supervisor sets, so no value (a token, say) ever shows in a process listing.
enum ContainerJob {
    /// `corral-<job>-<attempt>`: docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]`, which allocation ids keep.
    static func name(_ allocationID: String) -> String {
        "corral-" + allocationID.replacingDots()
    }

    /// `docker run` for the job. GPUs by index (`--gpus '"device=0,1"'`: the quotes keep the comma inside
    /// one option); none at all when it asked for none (`NVIDIA_VISIBLE_DEVICES=void`, since CUDA images set
    /// it to `all`). Its cwd is mounted at the same path and is the working directory; it runs as the agent's
    /// user, as a job without an image does, so files it writes there are the user's; CPUs and memory are
    /// capped at what it asked for. It runs as the job's account (`--user UID:GID`, its other groups added), as a
    /// job without an image does.
    static func runArguments(
        docker: String,
        spec: LaunchSpec,
        environmentNames: [String],
        explicitEnvironment: [String: String] = [:],
        account: UnixAccount
    ) -> [String] {
        var arguments = [docker, "run", "--rm", "--name", name(spec.allocationId), "--init"]
        arguments += ["--label", "corral.job=\(spec.jobId)", "--label", "corral.allocation=\(spec.allocationId)"]
        if !spec.gpuIndices.isEmpty {
            arguments += ["--gpus", "\"device=\(spec.gpuIndices.map(String.init).joined(separator: ","))\""]
        }
        arguments += ["--cpus", "\(spec.cpus)"]
        if spec.memory > 0 { arguments += ["--memory", "\(spec.memory)"] }
        arguments += ["--user", "\(account.uid):\(account.gid)"]
        for group in account.groups where group != account.gid { arguments += ["--group-add", "\(group)"] }
        // No way back to more privilege inside: setuid binaries of the image stay the user's, no capabilities.
        arguments += ["--security-opt", "no-new-privileges", "--cap-drop", "ALL"]
        arguments += ["--volume", "\(spec.cwd):\(spec.cwd)", "--workdir", spec.cwd]
        for name in environmentNames.sorted() { arguments += ["--env", name] }
        for (name, value) in explicitEnvironment.sorted(by: { $0.key < $1.key }) {
            arguments += ["--env", "\(name)=\(value)"]
        }
        arguments.append(spec.image ?? "")
        return arguments + spec.command
    }

    /// What the container sees: the job's own variables and Corral's, not the agent's PATH or HOME (the
    /// image has its own), and no CUDA_VISIBLE_DEVICES (inside, the allocated GPUs are numbered from 0).
    static func environmentNames(_ spec: LaunchSpec) -> [String] {
        var names = Array(spec.env.keys) + ["CORRAL_JOB_ID", "CORRAL_ALLOCATION_ID", "CORRAL_ATTEMPT"]
        if spec.gpuIndices.isEmpty { names.append("NVIDIA_VISIBLE_DEVICES") }
        return names
    }

    /// Whether a variable of that name, in the docker client's environment, would steer the client itself (run as
    /// root on the node): its dynamic loader, the daemon it talks to and its configuration, what it executes.
    static func steersClient(_ name: String) -> Bool {
        name.hasPrefix("LD_") || name.hasPrefix("DOCKER_") || name.hasPrefix("BUILDKIT_")
            || LaunchPlan.inherited.contains(name) || ["GCONV_PATH", "NLSPATH", "MALLOC_CONF"].contains(name)
    }

    /// `docker stop -t GRACE NAME`: SIGTERM to the container's init, SIGKILL after the grace period.
    static func stopArguments(docker: String, allocationID: String, grace: Int) -> [String] {
        [docker, "stop", "--time", "\(grace)", name(allocationID)]
    }

    /// The stop command with the grace in force now: fencing cuts the job's grace to fit in the lease, and
    /// docker must not wait longer than the supervisor will.
    static func withGrace(_ command: [String], seconds: Int) -> [String] {
        guard let flag = command.firstIndex(of: "--time"), flag + 1 < command.count else { return command }
        var command = command
        command[flag + 1] = "\(max(0, seconds))"
        return command
    }

    /// `docker login --username USER --password-stdin REGISTRY`: the password goes through standard input.
    static func loginArguments(registry: String, username: String) -> [String] {
        ["login", "--username", username, "--password-stdin", registry]
    }
}

extension String {
    fileprivate func replacingDots() -> String { String(map { $0 == "." ? "-" : $0 }) }
}
