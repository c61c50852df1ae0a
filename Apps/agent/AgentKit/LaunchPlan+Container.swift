import ClusterWire
import Glibc
import LinuxSystem

extension LaunchPlan {
    /// `docker run ...` for a container job, and the docker client's share of the job's variables: those that
    /// would steer the client on the node (its loader, its daemon, its PATH) go to the container as
    /// `--env NAME=VALUE` instead, so a job cannot make the root-run client do anything but run its container.
    static func containerCommand(
        _ spec: LaunchSpec,
        _ settings: LaunchSettings,
        account: UnixAccount?
    ) throws(LaunchError) -> ([String], [String: String]) {
        guard let docker = settings.docker else {
            throw LaunchError("this node runs no container jobs: set [containers] docker in its agent.toml")
        }
        var clientEnv = spec.env.filter { !ContainerJob.steersClient($0.key) }
        let explicit = spec.env.filter { ContainerJob.steersClient($0.key) }
        let command = ContainerJob.runArguments(
            docker: docker,
            spec: spec,
            environmentNames: ContainerJob.environmentNames(spec).filter { !ContainerJob.steersClient($0) },
            explicitEnvironment: explicit,
            account: account
                ?? UnixAccount(name: "", uid: settings.agentUID, gid: getgid(), groups: [], home: "/", shell: "")
        )
        if spec.gpuIndices.isEmpty { clientEnv["NVIDIA_VISIBLE_DEVICES"] = "void" }
        return (command, clientEnv)
    }

    /// The working directory is bind-mounted into a container as it is, which would skip the permissions of
    /// the directories above it: the account must be able to reach it on the node (execute permission on every
    /// directory on the way, the working directory included).
    static func checkReachable(_ path: String, by account: UnixAccount) throws(LaunchError) {
        guard account.uid != 0 else { return }
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var info = stat()
            guard stat(prefix, &info) == 0 else {
                throw LaunchError("working directory \(path) does not exist on this node")
            }
            let mode = info.st_mode
            let allowed =
                info.st_uid == account.uid
                ? mode & S_IXUSR != 0
                : account.groups.contains(info.st_gid) || info.st_gid == account.gid
                    ? mode & S_IXGRP != 0 : mode & S_IXOTH != 0
            guard allowed else {
                throw LaunchError("working directory \(path): Unix account \(account.name) cannot reach it (\(prefix))")
            }
        }
    }
}
