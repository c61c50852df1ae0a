import ClusterCore
import ClusterWire
public import CorralSupport
import FoundationEssentials
import Glibc
import HTTPKit
import NodeProbe

/// The agent: registers the node, heartbeats, long-polls for work, launches jobs and reports on them.
public actor Agent {
    struct RunningJob: Sendable {
        let spec: LaunchSpec
        var pid: pid_t?
        var stopping = false
        var timedOut = false
    }

    let configuration: AgentConfiguration
    let log: any LogSink
    let inventory: NodeInventory
    let bootID: String?
    var client: HTTPClient
    var nodeToken: String?
    var heartbeatInterval: Duration = .seconds(5)
    var longPollSeconds = 25
    var running: [String: RunningJob] = [:]
    /// Every allocation this process has seen, so a launch delivered twice starts once.
    var seen: Set<String> = []
    var reporter: Reporter!

    public init(configuration: AgentConfiguration, log: any LogSink) {
        self.configuration = configuration
        self.log = log
        let prober = NodeProber(nvidiaSMI: configuration.nvidiaSMI)
        let declared = configuration.declaredGPUs.map {
            DeclaredGPUs(count: $0, name: configuration.declaredGPUName, memoryMiB: configuration.declaredGPUMemoryMiB)
        }
        inventory = prober.probe(
            declaredGPUs: declared,
            cpusOverride: configuration.cpus,
            memoryOverride: configuration.memory
        )
        bootID = NodeProber.bootID()
        client = Self.makeClient(configuration, token: configuration.clusterToken)
    }

    static func makeClient(_ configuration: AgentConfiguration, token: String) -> HTTPClient {
        var settings = HTTPClientConfiguration(baseURL: configuration.endpoint, bearerToken: token)
        settings.caFile = configuration.caFile
        settings.userAgent = "corral-agent"
        return HTTPClient(configuration: settings)
    }

    /// Runs until SIGTERM or SIGINT. Jobs started here run in their own sessions and outlive the agent.
    public func run() async throws {
        for warning in inventory.warnings { log.warning(warning) }
        log.info(
            "node \(configuration.nodeID): \(inventory.gpus.count) GPUs (\(inventory.gpuSource)), "
                + "\(inventory.cpus) CPUs, \(ByteSize.format(inventory.memoryBytes)) memory"
        )
        try Files.makeDirectories(configuration.logDir, mode: 0o750)
        try Files.makeDirectories(configuration.jobsDir, mode: 0o700)
        fenceOrphans()
        reporter = Reporter(
            log: log,
            client: { [unowned self] in await self.client },
            onStop: { [unowned self] id in await self.stop(id, timedOut: false) }
        )
        try await registerUntilAccepted()
        let heartbeats = Task { await heartbeatLoop() }
        let polls = Task { await pollLoop() }
        let signal = await Signals.wait()
        log.info("received signal \(signal): stopping (running jobs keep running)")
        heartbeats.cancel()
        polls.cancel()
    }

    // MARK: Registration

    func registerUntilAccepted() async throws {
        var attempt = 0
        while true {
            do {
                try await register()
                return
            } catch let error as AgentFailure where error.isFatal {
                throw error
            } catch {
                let delay = Backoff(initial: .milliseconds(200), maximum: .seconds(10)).baseDelay(attempt: attempt)
                log.warning("cannot register with \(configuration.endpoint): \(error); retrying in \(delay)")
                attempt += 1
                try await Task.sleep(for: delay)
            }
        }
    }

    func register() async throws {
        let registrar = Self.makeClient(configuration, token: configuration.clusterToken)
        let request = RegisterRequest(
            nodeId: configuration.nodeID,
            hostname: inventory.hostname,
            bootId: bootID,
            cpus: inventory.cpus,
            memory: inventory.memoryBytes,
            gpus: gpuReports(),
            labels: configuration.labels,
            agentVersion: AgentVersion.current,
            running: runningReports()
        )
        let response = try await registrar.execute(.post, "/v1/agents/register", body: WireJSON.encode(request))
        guard response.status == 200 else {
            let message = String(decoding: response.body.prefix(500), as: UTF8.self)
            if response.status == 401 || response.status == 403 {
                throw AgentFailure(
                    "the controller refused the cluster token (\(response.status)): \(message)",
                    fatal: true
                )
            }
            throw AgentFailure(
                "registration failed with status \(response.status): \(message)",
                fatal: response.status == 400
            )
        }
        let answer = try WireJSON.decode(RegisterResponse.self, from: response.body)
        nodeToken = answer.nodeToken
        client = Self.makeClient(configuration, token: answer.nodeToken)
        heartbeatInterval = .milliseconds(Int64(max(100, answer.heartbeatIntervalMs)))
        longPollSeconds = max(1, min(answer.longPollSeconds, 60))
        log.info("registered with \(configuration.endpoint) as \(answer.nodeId)")
        for id in answer.stop { stop(id, timedOut: false) }
    }

    func gpuReports() -> [GPUReport] {
        inventory.gpus.map {
            GPUReport(
                index: $0.index,
                uuid: $0.uuid,
                name: $0.name,
                memoryMib: $0.memoryTotalMiB,
                memoryUsedMib: $0.memoryUsedMiB,
                utilization: $0.utilizationPercent,
                healthy: $0.isHealthy
            )
        }
    }

    func runningReports() -> [RunningAllocation] {
        running.sorted { $0.key < $1.key }.map { RunningAllocation(allocationId: $0.key, pid: $0.value.pid) }
    }

    // MARK: Loops

    func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeatInterval)
            let request = HeartbeatRequest(bootId: bootID, running: runningReports())
            do {
                let response = try await client.execute(
                    .post,
                    "/v1/agents/\(configuration.nodeID)/heartbeat",
                    body: WireJSON.encode(request)
                )
                if response.status == 401 || response.status == 404 {
                    log.warning("the controller no longer knows this node (\(response.status)): registering again")
                    try await registerUntilAccepted()
                    continue
                }
                guard response.status == 200 else { continue }
                let answer = try WireJSON.decode(HeartbeatResponse.self, from: response.body)
                heartbeatInterval = .milliseconds(Int64(max(100, answer.heartbeatIntervalMs)))
                for id in answer.stop { stop(id, timedOut: false) }
            } catch {
                log.warning("heartbeat failed: \(error)")
            }
        }
    }

    func pollLoop() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let response = try await client.execute(
                    .get,
                    "/v1/agents/\(configuration.nodeID)/assignments?wait=\(longPollSeconds)",
                    timeout: .seconds(Int64(longPollSeconds) + 15)
                )
                if response.status == 401 || response.status == 404 {
                    try await registerUntilAccepted()
                    continue
                }
                guard response.status == 200 else { throw AgentFailure("assignments: status \(response.status)") }
                failures = 0
                let answer = try WireJSON.decode(AssignmentsResponse.self, from: response.body)
                for id in answer.stop { stop(id, timedOut: false) }
                for spec in answer.launch { launch(spec) }
            } catch {
                failures += 1
                let delay = Backoff(initial: .milliseconds(200), maximum: .seconds(5)).baseDelay(attempt: failures)
                log.warning("waiting for work failed: \(error); retrying in \(delay)")
                try? await Task.sleep(for: delay)
            }
        }
    }

    // MARK: Jobs

    func launch(_ spec: LaunchSpec) {
        guard !seen.contains(spec.allocationId) else { return }
        seen.insert(spec.allocationId)
        running[spec.allocationId] = RunningJob(spec: spec)
        reporter.send(spec.allocationId, AllocationStatusRequest(phase: .starting))
        let pid: pid_t
        do {
            let plan = try JobLauncher.plan(
                command: spec.command,
                cwd: spec.cwd,
                env: spec.env,
                gpuIndices: spec.gpuIndices,
                jobID: spec.jobId,
                allocationID: spec.allocationId,
                attempt: spec.attempt,
                logPath: "\(configuration.logDir)/\(spec.allocationId).log",
                agentEnvironment: ProcessInfo.processInfo.environment
            )
            pid = try JobLauncher.spawn(plan)
        } catch {
            running[spec.allocationId] = nil
            log.warning("allocation \(spec.allocationId): launch failed: \(error)")
            reporter.send(spec.allocationId, AllocationStatusRequest(phase: .launchFailed, message: "\(error)"))
            return
        }
        running[spec.allocationId]?.pid = pid
        recordPID(spec.allocationId, pid)
        log.info("allocation \(spec.allocationId): started pid \(pid) on GPUs \(spec.gpuIndices)")
        reporter.send(spec.allocationId, AllocationStatusRequest(phase: .running, pid: pid))
        let id = spec.allocationId
        Threads.detach { [self] in
            let exit = JobLauncher.wait(for: pid)
            Task { await self.exited(id, exit) }
        }
        if running[id]?.stopping == true {
            // A stop arrived while it was being spawned: carry it out now, grace period and all.
            running[id]?.stopping = false
            stop(id, timedOut: running[id]?.timedOut ?? false)
        }
        if let limit = spec.timeLimit {
            Task {
                try? await Task.sleep(for: .seconds(limit))
                self.stop(id, timedOut: true)
            }
        }
    }

    func exited(_ id: String, _ exit: JobExit) {
        guard let job = running.removeValue(forKey: id) else { return }
        var exit = exit
        exit.timedOut = job.timedOut
        if let pid = job.pid, JobLauncher.groupAlive(pid) {
            // The leader is gone but children linger: they belong to the job, so they go too.
            JobLauncher.signalGroup(pid, SIGKILL)
        }
        unlink("\(configuration.jobsDir)/\(id).pid")
        log.info("allocation \(id): \(JobStateMachine.describe(exit))")
        reporter.send(
            id,
            AllocationStatusRequest(
                phase: .exited,
                exitCode: exit.code,
                signal: exit.signal,
                message: exit.signal == 9 ? "killed, possibly out of memory" : nil,
                timedOut: exit.timedOut ? true : nil
            )
        )
    }

    /// SIGTERM to the job's process group, then SIGKILL after the grace period.
    func stop(_ id: String, timedOut: Bool) {
        guard var job = running[id], !job.stopping else { return }
        job.stopping = true
        job.timedOut = timedOut
        running[id] = job
        guard let pid = job.pid else { return }
        log.info("allocation \(id): stopping\(timedOut ? " (time limit)" : "")")
        JobLauncher.signalGroup(pid, SIGTERM)
        let grace = configuration.killGrace
        Task {
            try? await Task.sleep(for: grace)
            if JobLauncher.groupAlive(pid) { JobLauncher.signalGroup(pid, SIGKILL) }
        }
    }

    /// Jobs a previous agent process started and this one cannot watch: stop them, so that the controller,
    /// which sees them missing from our registration and retries them elsewhere, never has two copies running.
    /// (Re-adopting them instead comes with the job supervisor.)
    func fenceOrphans() {
        for name in Files.list(configuration.jobsDir) where name.hasSuffix(".pid") {
            let path = "\(configuration.jobsDir)/\(name)"
            if let text = try? Files.read(path, limit: 64), let pid = pid_t(text.trimmingWhitespace()),
                JobLauncher.groupAlive(pid)
            {
                JobLauncher.signalGroup(pid, SIGKILL)
                log.warning("stopped job \(name.dropLast(4)) (pid \(pid)) left by a previous agent process")
            }
            unlink(path)
        }
    }

    func recordPID(_ id: String, _ pid: pid_t) {
        try? Files.writeAtomically("\(configuration.jobsDir)/\(id).pid", "\(pid)\n", mode: 0o600)
    }
}

public enum AgentVersion {
    public static let current = "0.1.0"
}

struct AgentFailure: Error, CustomStringConvertible {
    let message: String
    let isFatal: Bool
    init(_ message: String, fatal: Bool = false) {
        self.message = message
        self.isFatal = fatal
    }
    var description: String { message }
}
