import ClusterCore
import ClusterWire
import CorralSupport
import FoundationEssentials
import Glibc
import HTTPKit
import LinuxSystem
import NodeProbe

/// `corral-agent status`, `stop` and `preflight`.
enum AgentChecks {
    struct Check {
        let name: String
        let required: Bool
        let ok: Bool
        let detail: String
    }

    static func load(_ path: String) -> Result<AgentConfiguration, ConfigurationFailure> {
        do {
            return .success(try AgentConfiguration.load(path: path, environment: ProcessInfo.processInfo.environment))
        } catch {
            return .failure(error)
        }
    }

    static func status(path: String) async -> Int32 {
        let configuration: AgentConfiguration
        switch load(path) {
        case .success(let value): configuration = value
        case .failure(let error):
            FileHandleOutput.stderr("corral-agent: \(error)\n")
            return 1
        }
        let pid = AgentLock.runningPID(configuration)
        // Jobs whose supervisors have not written an exit yet, whether or not the agent runs.
        let jobs = Files.list(configuration.jobsDir).compactMap { name -> String? in
            let record = JobRecord(jobsDir: configuration.jobsDir, allocationID: name)
            guard Files.isDirectory(record.directory), !Files.exists(record.exitPath) else { return nil }
            return record.jobPID().map { "\(name) (pid \($0))" } ?? name
        }
        let reachable = await controllerReachable(configuration)
        FileHandleOutput.stdout(
            """
            agent:       \(pid.map { "running (pid \($0))" } ?? "not running")
            node:        \(configuration.nodeID)
            controller:  \(configuration.endpoint) \(reachable.ok ? "reachable" : "NOT reachable: \(reachable.detail)")
            jobs:        \(jobs.isEmpty ? "none" : jobs.joined(separator: ", "))

            """
        )
        return pid != nil && reachable.ok ? 0 : 1
    }

    static func stop(path: String) -> Int32 {
        guard case .success(let configuration) = load(path), let pid = AgentLock.runningPID(configuration) else {
            FileHandleOutput.stderr("corral-agent: no running agent for \(path)\n")
            return 1
        }
        kill(pid, SIGTERM)
        FileHandleOutput.stdout("sent SIGTERM to the agent (pid \(pid))\n")
        return 0
    }

    static func client(_ configuration: AgentConfiguration) -> HTTPClient {
        ControllerLink.makeClient(configuration, token: configuration.clusterToken, timeout: .seconds(5))
    }

    static func controllerReachable(_ configuration: AgentConfiguration) async -> (ok: Bool, detail: String) {
        do {
            let response = try await client(configuration).execute(.get, "/healthz")
            return (response.status == 200, "status \(response.status)")
        } catch {
            return (false, error.description)
        }
    }

    /// The checks of a node before it takes work, as a table; exit 1 when a required one fails.
    static func preflight(path: String) async -> Int32 {
        var checks: [Check] = []
        let configuration: AgentConfiguration
        switch load(path) {
        case .success(let value):
            configuration = value
            checks.append(Check(name: "configuration", required: true, ok: true, detail: path))
        case .failure(let error):
            FileHandleOutput.stdout(
                table([Check(name: "configuration", required: true, ok: false, detail: error.message)])
            )
            return 1
        }
        let reachable = await controllerReachable(configuration)
        checks.append(
            Check(
                name: "controller reachable",
                required: true,
                ok: reachable.ok,
                detail: "\(configuration.endpoint): \(reachable.detail)"
            )
        )
        if reachable.ok {
            // With the node id, the controller checks the client certificate too, when it requires one.
            let answer = try? await client(configuration).execute(
                .get,
                "/v1/agents/join-check?node=\(configuration.nodeID)"
            )
            let accepted = answer?.status == 200
            let message = answer.map { ErrorEnvelope.message(in: $0.body) } ?? "no answer"
            checks.append(
                Check(
                    name: "join accepted (token, certificate)",
                    required: true,
                    ok: accepted,
                    detail: accepted ? "yes" : "status \(answer?.status ?? 0): \(message)"
                )
            )
        }
        for directory in [configuration.stateDir, configuration.logDir, configuration.jobsDir] {
            checks.append(writable(directory))
        }
        checks.append(diskSpace(configuration.logDir))
        let containment = Containment.prepare(parent: configuration.cgroupParent)
        checks.append(
            Check(
                name: "cgroups",
                required: !configuration.allowUncontained,
                ok: containment.problem == nil,
                detail: containment.problem == nil
                    ? "\(containment.summary); jobs under \(containment.tracking?.directory ?? "?")"
                    : "\(containment.summary)"
                        + (configuration.allowUncontained
                            ? " (allowed: allow_uncontained)" : "; or set allow_uncontained")
            )
        )
        if let declared = configuration.declaredGPUs {
            checks.append(Check(name: "GPUs", required: true, ok: true, detail: "\(declared) declared in agent.toml"))
        } else {
            let inventory = NodeProber(nvidiaSMI: configuration.nvidiaSMI, nvml: configuration.loadNVML()).probe()
            let ok = inventory.gpuProbeError == nil
            checks.append(
                Check(
                    name: "GPUs",
                    required: false,
                    ok: ok,
                    detail: ok
                        ? "\(inventory.gpus.count) from \(inventory.gpuSource)"
                        : "\(inventory.warnings.joined(separator: "; ")): declare them with --declare-gpus"
                )
            )
        }
        if let docker = configuration.docker { checks.append(dockerCheck(docker)) }
        checks += stageChecks(configuration)
        FileHandleOutput.stdout(table(checks))
        return checks.contains { $0.required && !$0.ok } ? 1 : 0
    }

    /// Container jobs are on: the docker CLI must run and reach its engine.
    static func dockerCheck(_ docker: String) -> Check {
        do {
            let result = try CommandRunner.run(
                docker,
                ["version", "--format", "{{.Server.Version}}"],
                timeout: .seconds(20)
            )
            let output = (result.status == 0 ? result.stdout : result.stderr).trimmingWhitespace()
            let line = output.split(separator: "\n").first.map(String.init) ?? "status \(result.status)"
            return Check(
                name: "docker",
                required: true,
                ok: result.status == 0,
                detail: result.status == 0 ? "engine \(line)" : "\(docker): \(line)"
            )
        } catch {
            return Check(name: "docker", required: true, ok: false, detail: error.message)
        }
    }

    static func writable(_ directory: String) -> Check {
        do {
            try Files.makeDirectories(directory, mode: 0o750)
            let probe = directory + "/.preflight"
            try Files.writeAtomically(probe, "ok\n", mode: 0o600)
            unlink(probe)
            return Check(name: "writable", required: true, ok: true, detail: directory)
        } catch {
            return Check(name: "writable", required: true, ok: false, detail: "\(error)")
        }
    }

    /// What the agent checks before every heartbeat: a node that cannot write its job records or logs, or is
    /// nearly out of disk, says it is unhealthy (no new work) rather than fail the jobs it would be given.
    static func selfCheck(_ configuration: AgentConfiguration, diskFree: Int64?) -> [String] {
        var problems: [String] = []
        // access(2) is enough here (it also says EROFS for a file system remounted read-only) and writes
        // nothing, so a heartbeat costs no fsync.
        for directory in [configuration.jobsDir, configuration.logDir] {
            if !Files.isDirectory(directory) {
                problems.append("\(directory) is not a directory")
            } else if access(directory, W_OK) != 0 {
                problems.append("cannot write \(directory): \(String(cString: strerror(errno)))")
            }
        }
        let space = diskSpace(configuration.logDir, free: diskFree)
        if !space.ok { problems.append(space.detail) }
        return problems
    }

    static func freeBytes(_ directory: String) -> Int64? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// At least 1 GiB free where job logs go.
    static func diskSpace(_ directory: String, free known: Int64? = nil) -> Check {
        guard let free = known ?? freeBytes(directory) else {
            return Check(name: "disk space", required: true, ok: false, detail: "cannot stat \(directory)")
        }
        return Check(
            name: "disk space",
            required: true,
            ok: free >= 1 << 30,
            detail: "\(ByteSize.format(free)) free in \(directory) (1G needed)"
        )
    }

    static func table(_ checks: [Check]) -> String {
        let width = checks.map(\.name.count).max() ?? 0
        return checks.map { check in
            let mark = check.ok ? "ok  " : (check.required ? "FAIL" : "warn")
            return "\(mark)  \(check.name)\(String(repeating: " ", count: width - check.name.count))  \(check.detail)"
        }.joined(separator: "\n") + "\n"
    }
}
