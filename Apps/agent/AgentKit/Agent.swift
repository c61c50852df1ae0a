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
        var fenced = false
    }

    let configuration: AgentConfiguration
    let log: any LogSink
    let inventory: NodeInventory
    let bootID: String?
    var client: HTTPClient
    var nodeToken: String?
    var heartbeatInterval: Duration = .seconds(5)
    var longPollSeconds = 25
    /// How long jobs may run without a renewal (a heartbeat the controller answered) before the agent stops
    /// them itself, so the controller can safely run them elsewhere. From the controller at registration.
    var allocationLease: Duration = .seconds(120)
    var lastRenewal = ContinuousClock.now
    /// Bytes of each allocation's log the controller holds; shipping goes on from there.
    var shipped: [String: Int] = [:]
    /// Allocations that ended but whose log is not all shipped yet.
    var draining: Set<String> = []
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
        settings.clientCertificateFile = configuration.clientCertificate
        settings.clientKeyFile = configuration.clientKey
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
        try Files.writeAtomically(configuration.pidPath, "\(getpid())\n", mode: 0o644)
        defer { unlink(configuration.pidPath) }
        fenceOrphans()
        reporter = Reporter(
            log: log,
            client: { [unowned self] in await self.client },
            onStop: { [unowned self] id in await self.stop(id, timedOut: false) }
        )
        try await registerUntilAccepted()
        let heartbeats = Task { await heartbeatLoop() }
        let polls = Task { await pollLoop() }
        let shipping = Task { await shipLoop() }
        let signal = await Signals.wait()
        log.info("received signal \(signal): stopping (running jobs keep running)")
        heartbeats.cancel()
        polls.cancel()
        shipping.cancel()
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
        if let lease = answer.allocationLeaseMs { allocationLease = .milliseconds(Int64(max(1000, lease))) }
        lastRenewal = ContinuousClock.now
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
                lastRenewal = ContinuousClock.now
                let answer = try WireJSON.decode(HeartbeatResponse.self, from: response.body)
                heartbeatInterval = .milliseconds(Int64(max(100, answer.heartbeatIntervalMs)))
                for id in answer.stop { stop(id, timedOut: false) }
            } catch {
                log.warning("heartbeat failed: \(error)")
            }
            fenceIfLeaseExpired()
        }
    }

    /// Fencing: jobs whose lease could not be renewed for the whole lease are stopped here, because by now
    /// the controller may have started them elsewhere. A shorter outage stops nothing.
    func fenceIfLeaseExpired() {
        let silence = ContinuousClock.now - lastRenewal
        guard silence > allocationLease else { return }
        for (id, job) in running where !job.fenced {
            log.warning("allocation \(id): fencing it: no renewal from the controller for \(silence)")
            running[id]?.fenced = true
            stop(id, timedOut: false)
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
        log.info("allocation \(id): \(JobStateMachine.describe(exit))\(job.fenced ? " (fenced)" : "")")
        let report = AllocationStatusRequest(
            phase: .exited,
            exitCode: exit.code,
            signal: exit.signal,
            message: job.fenced
                ? "stopped by its agent: the controller was out of reach for longer than the allocation lease"
                : exit.signal == 9 ? "killed, possibly out of memory" : nil,
            timedOut: exit.timedOut ? true : nil,
            fenced: job.fenced ? true : nil
        )
        // The log is shipped whole before the exit is reported, so a finished job's log is complete.
        draining.insert(id)
        Task {
            await self.shipUntilCaughtUp(id)
            self.reporter.send(id, report)
        }
    }

    // MARK: Logs

    func logPath(_ id: String) -> String { "\(configuration.logDir)/\(id).log" }

    /// Ships new log bytes of running and just-ended allocations about four times a second.
    func shipLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            for id in Set(running.keys).union(draining).sorted() { _ = await ship(id) }
        }
    }

    /// Ships what is new, from where the controller says it is; returns true when nothing is left to send.
    func ship(_ id: String) async -> Bool {
        let offset = shipped[id] ?? 0
        let chunk = Files.read(logPath(id), from: offset, limit: 1 << 20)
        guard !chunk.isEmpty || shipped[id] == nil else {
            if !running.keys.contains(id) { draining.remove(id) }
            return true
        }
        do {
            let response = try await client.execute(.post, "/v1/allocations/\(id)/logs?offset=\(offset)", body: chunk)
            guard response.status == 200 else {
                if response.status == 404 { draining.remove(id) }  // the controller no longer knows it
                return response.status == 404
            }
            let answer = try WireJSON.decode(LogAppendResponse.self, from: response.body)
            shipped[id] = answer.size
            return chunk.isEmpty || answer.size >= offset + chunk.count && Files.size(logPath(id)) <= answer.size
        } catch {
            return false
        }
    }

    /// After a job ends: ship until the controller has every byte (bounded: a controller outage does not
    /// hold the exit report back for long; the shipper keeps going after it).
    func shipUntilCaughtUp(_ id: String) async {
        for _ in 0..<40 {
            if await ship(id), (shipped[id] ?? 0) >= Files.size(logPath(id)) { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
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
