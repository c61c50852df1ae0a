import ClusterCore
import ClusterWire
public import CorralSupport
import FoundationEssentials
import Glibc
import HTTPKit
import LinuxSystem
import NodeProbe

/// The agent: registers the node, heartbeats, long-polls for work, launches jobs and reports on them.
public actor Agent {
    struct RunningJob: Sendable {
        let spec: LaunchSpec
        /// The job's pid, which is also its process group; nil until its supervisor has started it.
        var pid: pid_t?
        var supervisor: pid_t?
        var stopping = false
        /// Over, but the controller does not have the exit yet: still reported as ours, so that registering
        /// meanwhile does not make the controller think the job vanished.
        var ended = false
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
    /// Bytes of each allocation's log the controller holds; shipping goes on from there.
    var shipped: [String: Int] = [:]
    /// Allocations that ended but whose log is not all shipped yet.
    var draining: Set<String> = []
    /// Logs the controller takes no more of (its per-job cap is reached, or it no longer knows the job).
    var unshippable: Set<String> = []
    var running: [String: RunningJob] = [:]
    /// The latest usage sample of each running allocation (peaks carried from sample to sample).
    var usage: [String: UsageReport] = [:]
    var registryLoggedIn = false
    /// The GPUs as last measured; nil when that measurement failed (or none is taken: declared GPUs).
    var latestGPUs: [GPUReport]?
    var zygote = ZygoteHandle()
    /// Measures the GPUs again for each heartbeat; nil where they were declared rather than detected.
    let gpuProber: NodeProber?
    /// Every allocation this process has seen, so a launch delivered twice starts once.
    var seen: Set<String> = []
    var reporter: Reporter!

    public init(configuration: AgentConfiguration, log: any LogSink) {
        self.configuration = configuration
        self.log = log
        let prober = NodeProber(nvidiaSMI: configuration.nvidiaSMI, nvml: configuration.loadNVML())
        let declared = configuration.declaredGPUs.map {
            DeclaredGPUs(count: $0, name: configuration.declaredGPUName, memoryMiB: configuration.declaredGPUMemoryMiB)
        }
        inventory = prober.probe(
            declaredGPUs: declared,
            cpusOverride: configuration.cpus,
            memoryOverride: configuration.memory
        )
        gpuProber = ["nvidia-smi", "nvml"].contains(inventory.gpuSource) ? prober : nil
        latestGPUs = gpuProber == nil ? nil : Self.reports(inventory.gpus)
        bootID = NodeProber.bootID()
        client = Self.makeClient(configuration, token: configuration.clusterToken)
    }

    static func makeClient(
        _ configuration: AgentConfiguration,
        token: String,
        timeout: Duration? = nil
    ) -> HTTPClient {
        var settings = HTTPClientConfiguration(baseURL: configuration.endpoint, bearerToken: token)
        if let timeout { settings.requestTimeout = timeout }
        settings.caFile = configuration.caFile
        settings.clientCertificateFile = configuration.clientCertificate
        settings.clientKeyFile = configuration.clientKey
        settings.userAgent = "corral-agent"
        return HTTPClient(configuration: settings)
    }

    /// Runs until SIGTERM or SIGINT. Jobs run under supervisors of their own and outlive the agent.
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
        reporter = Reporter(
            log: log,
            node: configuration.nodeID,
            client: { [unowned self] in await self.client },
            onStop: { [unowned self] id in await self.stop(id) }
        )
        adoptJobs()
        try await registerUntilAccepted()
        let heartbeats = Task { await heartbeatLoop() }
        let polls = Task { await pollLoop() }
        let shipping = Task { await shipLoop() }
        let sampling = Task { await sampleLoop() }
        let signal = await Signals.wait()
        log.info("received signal \(signal): stopping (running jobs keep running)")
        heartbeats.cancel()
        polls.cancel()
        shipping.cancel()
        sampling.cancel()
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
        let sentAt = Monotonic.nanoseconds()
        let registrar = Self.makeClient(configuration, token: configuration.clusterToken)
        let request = RegisterRequest(
            nodeId: configuration.nodeID,
            hostname: inventory.hostname,
            bootId: bootID,
            cpus: inventory.cpus,
            memory: inventory.memoryBytes,
            gpus: Self.reports(inventory.gpus),
            labels: configuration.docker == nil
                ? configuration.labels : configuration.labels.merging([NodeLabels.containers: "docker"]) { $1 },
            agentVersion: AgentVersion.current,
            running: runningReports(),
            gpuTopology: inventory.gpuTopology
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
        LeaseFile.renew(configuration.leasePath, lease: allocationLease, renewedAt: sentAt)
        log.info("registered with \(configuration.endpoint) as \(answer.nodeId)")
        for id in answer.stop { stop(id) }
    }

    static func reports(_ gpus: [GPUInfo]) -> [GPUReport] {
        gpus.map {
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
        running.sorted { $0.key < $1.key }.map {
            RunningAllocation(allocationId: $0.key, pid: $0.value.pid, usage: usage[$0.key])
        }
    }

    // MARK: Loops

    func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: heartbeatInterval)
            let diskFree = AgentChecks.freeBytes(configuration.logDir)
            var problems = AgentChecks.selfCheck(configuration, diskFree: diskFree)
            if gpuProber != nil && latestGPUs == nil {
                problems.append("the GPU query (NVML or nvidia-smi) failed or hung")
            }
            let request = HeartbeatRequest(
                bootId: bootID,
                running: runningReports(),
                gpus: latestGPUs,
                healthy: problems.isEmpty,
                message: problems.isEmpty ? nil : problems.joined(separator: "; "),
                diskFree: diskFree
            )
            // The renewal counts from before the request: the controller's lease began no earlier than that.
            let sentAt = Monotonic.nanoseconds()
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
                LeaseFile.renew(configuration.leasePath, lease: allocationLease, renewedAt: sentAt)
                let answer = try WireJSON.decode(HeartbeatResponse.self, from: response.body)
                heartbeatInterval = .milliseconds(Int64(max(100, answer.heartbeatIntervalMs)))
                for id in answer.stop { stop(id) }
            } catch {
                log.warning("heartbeat failed: \(error)")
            }
        }
    }

    /// Measures on its own cadence, so that a GPU query that hangs up to its timeout never delays a heartbeat
    /// (which would let the controller judge the node lost): heartbeats send the latest measurement.
    func sampleLoop() async {
        while !Task.isCancelled {
            // The start-up probe has just measured: the first sample comes one interval later.
            try? await Task.sleep(for: heartbeatInterval)
            latestGPUs = await sampleUsage()
        }
    }

    /// Samples every running job's process group (one pass over /proc) and, where nvidia-smi found the GPUs,
    /// the GPUs and the processes holding their memory: blocking work, on a thread of its own. Returns the
    /// GPUs as measured now (nil when nvidia-smi failed, or is not used on this node).
    func sampleUsage() async -> [GPUReport]? {
        var groups: [pid_t: String] = [:]
        // A container job's process group is only the docker client: its figures would say nothing of the job.
        for (id, job) in running where !job.ended && job.spec.image == nil {
            if let pid = job.pid { groups[pid] = id }
        }
        let prober = gpuProber
        let wanted = Set(groups.keys)
        let (processes, gpus) = await Threads.run { (ProcessSampler.sample(groups: wanted), prober?.sampleGPUs()) }
        var gpuMemory: [pid_t: Int] = [:]
        for app in gpus?.apps ?? [] { gpuMemory[app.pid, default: 0] += app.usedMemoryMiB ?? 0 }
        for (group, id) in groups {
            // The job may have ended (and been forgotten) while the sample was taken.
            guard let sample = processes[group], running[id]?.ended == false else { continue }
            let onGPU = sample.pids.compactMap { gpuMemory[$0] }
            usage[id] = UsageReport(
                cpuSeconds: sample.cpuSeconds,
                memory: sample.residentBytes,
                peakMemory: max(usage[id]?.peakMemory ?? 0, sample.residentBytes),
                gpuMemoryMib: onGPU.isEmpty ? (gpus == nil ? nil : 0) : onGPU.reduce(0, +)
            )
        }
        return gpus.map { Self.reports($0.gpus) }
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
                for id in answer.stop { stop(id) }
                for spec in answer.launch { await launch(spec) }
            } catch {
                failures += 1
                let delay = Backoff(initial: .milliseconds(200), maximum: .seconds(5)).baseDelay(attempt: failures)
                log.warning("waiting for work failed: \(error); retrying in \(delay)")
                try? await Task.sleep(for: delay)
            }
        }
    }

    // MARK: Jobs

    /// Starts the job's supervisor, which starts the job. Launch failures found before that (cwd missing,
    /// command not found, permission denied) are reported at once as such.
    func launch(_ spec: LaunchSpec) async {
        guard !seen.contains(spec.allocationId) else { return }
        seen.insert(spec.allocationId)
        let id = spec.allocationId
        running[id] = RunningJob(spec: spec)
        reporter.send(id, AllocationStatusRequest(phase: .starting))
        let record = JobRecord(jobsDir: configuration.jobsDir, allocationID: id)
        var supervisor: pid_t?
        do {
            if spec.image != nil { try await logInToRegistry() }
            try record.create(try supervisorPlan(spec))
            let zygoteLog = configuration.stateDir + "/zygote.log"
            if !zygote.start(record.directory, executable: Self.executable, log: zygoteLog) {
                // No zygote: execute a supervisor directly (slower to start, the same otherwise).
                supervisor = try JobLauncher.spawn(
                    JobLauncher.Plan(
                        executable: Self.executable,
                        arguments: [Self.executable, Supervisor.command, record.directory],
                        environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
                        cwd: "/",
                        logPath: record.supervisorLogPath
                    )
                )
            }
        } catch {
            running[id] = nil
            record.remove()
            log.warning("allocation \(id): launch failed: \(error)")
            reporter.send(id, AllocationStatusRequest(phase: .launchFailed, message: "\(error)"))
            return
        }
        running[id]?.supervisor = supervisor
        follow(id, record, supervisor: supervisor, child: supervisor != nil)
    }

    func supervisorPlan(_ spec: LaunchSpec) throws -> SupervisorPlan {
        var command = spec.command
        var env = spec.env
        if spec.image != nil {
            guard let docker = configuration.docker else {
                throw AgentFailure("this node runs no container jobs: set [containers] docker in its agent.toml")
            }
            command = ContainerJob.runArguments(
                docker: docker,
                spec: spec,
                environmentNames: ContainerJob.environmentNames(spec),
                user: (getuid(), getgid())
            )
            if spec.gpuIndices.isEmpty { env["NVIDIA_VISIBLE_DEVICES"] = "void" }
        }
        let grace = spec.killGrace ?? Int(configuration.killGrace.components.seconds)
        let job = try JobLauncher.plan(
            command: command,
            cwd: spec.cwd,
            env: env,
            gpuIndices: spec.gpuIndices,
            jobID: spec.jobId,
            allocationID: spec.allocationId,
            attempt: spec.attempt,
            logPath: logPath(spec.allocationId),
            agentEnvironment: ProcessInfo.processInfo.environment
        )
        return SupervisorPlan(
            spec: spec,
            executable: job.executable,
            arguments: job.arguments,
            environment: job.environment,
            cwd: job.cwd,
            logPath: job.logPath,
            graceSeconds: grace,
            leasePath: configuration.leasePath,
            bootId: bootID,
            stopCommand: spec.image == nil
                ? nil
                : ContainerJob.stopArguments(docker: job.executable, allocationID: spec.allocationId, grace: grace)
        )
    }

    /// Logs in to the configured private registry once, before the first container job (the password goes
    /// through standard input, never the command line). A failure fails the launch, saying why.
    func logInToRegistry() async throws {
        guard !registryLoggedIn, let registry = configuration.registry, let docker = configuration.docker,
            let username = configuration.registryUsername
        else { return }
        let password = try configuration.registryPassword ?? Files.readSecret(configuration.registryPasswordFile ?? "")
        let arguments = ContainerJob.loginArguments(registry: registry, username: username)
        let result = await Threads.run {
            Result { () throws(ProcessError) in
                try CommandRunner.run(docker, arguments, timeout: .seconds(60), input: Array(password.utf8))
            }
        }
        let outcome = try result.get()
        guard outcome.status == 0 else {
            let detail = outcome.stderr.split(separator: "\n").first.map(String.init) ?? "status \(outcome.status)"
            throw AgentFailure("docker login to \(registry) as \(username) failed: \(detail)")
        }
        registryLoggedIn = true
        log.info("logged in to registry \(registry) as \(username)")
    }

    /// Reports the job running once its supervisor has started it, then waits (on a thread of its own) for the
    /// supervisor to end and reports how the job ended.
    /// `supervisor` is nil when the zygote started it: its pid is read from the record, where the supervisor
    /// writes it before it starts the job.
    func follow(_ id: String, _ record: JobRecord, supervisor: pid_t?, child: Bool) {
        Task {
            if running[id]?.pid == nil {
                // The supervisor writes job.pid, or exit.json when the job could not start, within milliseconds:
                // look every millisecond at first, then less often (10 s in all).
                for attempt in 0..<1000 {
                    let gone = supervisor.map { !Processes.alive($0) } ?? false
                    if record.jobPID() != nil || Files.exists(record.exitPath) || gone { break }
                    try? await Task.sleep(for: .milliseconds(attempt < 20 ? 1 : 10))
                }
                started(id, record.jobPID())
            }
            // Written before the job starts; nil also when it has already ended (exit.json says how).
            guard let watched = supervisor ?? record.liveSupervisor() else {
                finished(id)
                return
            }
            running[id]?.supervisor = watched
            Threads.detach { [self] in
                Processes.waitForExit(watched, child: child)
                Task { await self.finished(id) }
            }
        }
    }

    func started(_ id: String, _ pid: pid_t?) {
        guard let pid, running[id] != nil, running[id]?.pid == nil else { return }
        running[id]?.pid = pid
        log.info("allocation \(id): started pid \(pid) on GPUs \(running[id]?.spec.gpuIndices ?? [])")
        reporter.send(id, AllocationStatusRequest(phase: .running, pid: pid))
    }

    /// The supervisor is gone: report what it wrote, once the log is shipped whole, then forget the job.
    func finished(_ id: String) {
        guard let job = running[id], !job.ended else { return }
        running[id]?.ended = true
        let record = JobRecord(jobsDir: configuration.jobsDir, allocationID: id)
        let report: AllocationStatusRequest
        if let exit = record.exit() {
            if let error = exit.launchError, job.pid == nil && record.jobPID() == nil {
                log.warning("allocation \(id): launch failed: \(error)")
                report = AllocationStatusRequest(phase: .launchFailed, message: error)
            } else {
                // The controller takes an exit only from a RUNNING job: say it ran first, if this process never
                // did (an agent that died between starting the job and reporting it). A repeat changes nothing.
                if job.pid == nil, let pid = record.jobPID() {
                    reporter.send(id, AllocationStatusRequest(phase: .running, pid: pid))
                }
                report = Self.report(exit, sampled: usage[id])
                let outcome = JobStateMachine.describe(JobExit(code: exit.code, signal: exit.signal))
                log.info("allocation \(id): \(outcome)\(exit.stopReason.map { " (\($0.rawValue))" } ?? "")")
            }
        } else {
            // The supervisor was killed before it could write anything: what is left of the job goes too.
            if let pid = job.pid ?? record.jobPID(), Processes.groupAlive(pid) {
                Processes.signalGroup(pid, SIGKILL)
            }
            log.warning("allocation \(id): its supervisor died without a word; the job was killed")
            report = AllocationStatusRequest(
                phase: .exited,
                signal: SIGKILL,
                message: "its supervisor on the node died unexpectedly; the job was killed"
            )
        }
        // The log is shipped whole before the exit is reported, so a finished job's log is complete; the
        // record goes only once the controller has the report, so an agent restart in between loses nothing.
        draining.insert(id)
        Task {
            await self.shipUntilCaughtUp(id)
            self.reporter.send(id, report) { Task { await self.forget(id, record) } }
        }
    }

    func forget(_ id: String, _ record: JobRecord) {
        running[id] = nil
        usage[id] = nil
        shipped[id] = nil
        unshippable.remove(id)
        record.remove()
    }

    static func report(_ exit: SupervisorExit, sampled: UsageReport?) -> AllocationStatusRequest {
        let message: String?
        switch exit.stopReason {
        case .fence:
            message = "stopped by its agent: the controller was out of reach for longer than the allocation lease"
        case nil where exit.signal == SIGKILL: message = "killed, possibly out of memory"
        case nil where exit.launchError != nil: message = exit.launchError
        default: message = nil
        }
        return AllocationStatusRequest(
            phase: .exited,
            exitCode: exit.code,
            signal: exit.signal,
            message: message,
            timedOut: exit.stopReason == .timeout ? true : nil,
            fenced: exit.stopReason == .fence ? true : nil,
            usage: UsageReport(
                cpuSeconds: max(exit.cpuSeconds ?? 0, sampled?.cpuSeconds ?? 0),
                memory: sampled?.memory ?? 0,
                peakMemory: max(exit.maxResidentBytes ?? 0, sampled?.peakMemory ?? 0),
                gpuMemoryMib: sampled?.gpuMemoryMib
            )
        )
    }

    /// Jobs that earlier agent processes started: watched again where their supervisors still run, reported
    /// where they ended while no agent was there to see it.
    func adoptJobs() {
        for name in Files.list(configuration.jobsDir) {
            let record = JobRecord(jobsDir: configuration.jobsDir, allocationID: name)
            guard Files.isDirectory(record.directory) else {
                // Not a record (an agent before supervisors kept `<allocation>.pid` here): nothing to adopt.
                log.warning("removing \(record.directory): not a job record")
                unlink(record.directory)
                continue
            }
            guard let plan = record.plan() else {
                log.warning("removing \(record.directory): no readable launch.json")
                record.remove()
                continue
            }
            let id = plan.spec.allocationId
            if let then = plan.bootId, let bootID, then != bootID {
                // The node rebooted since: the job died with it, which registering with the new boot id says.
                log.info("allocation \(id) ended with the reboot")
                record.remove()
                continue
            }
            seen.insert(id)
            // The pid is learnt again by `follow`, which reports the job running (a no-op for the controller
            // unless the earlier agent died before it could say so).
            running[id] = RunningJob(spec: plan.spec)
            if record.exit() != nil {
                log.info("allocation \(id): ended while the agent was away")
                finished(id)
            } else if let supervisor = record.liveSupervisor() {
                log.info("allocation \(id): adopted (supervisor \(supervisor))")
                follow(id, record, supervisor: supervisor, child: false)
            } else if !Files.exists(record.supervisorPIDPath) {
                // Started an instant before the last agent died: give the supervisor its moment to say so.
                follow(id, record, supervisor: nil, child: false)
            } else {
                finished(id)  // its supervisor is gone without a word: reported as such
            }
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
        if unshippable.contains(id) {
            draining.remove(id)
            return true
        }
        let offset = shipped[id] ?? 0
        let chunk = Files.read(logPath(id), from: offset, limit: 1 << 20)
        guard !chunk.isEmpty || shipped[id] == nil else {
            if !running.keys.contains(id) { draining.remove(id) }
            return true
        }
        do {
            let response = try await client.execute(.post, "/v1/allocations/\(id)/logs?offset=\(offset)", body: chunk)
            guard response.status == 200 else {
                if response.status == 404 { unshippable.insert(id) }  // the controller no longer knows it
                return response.status == 404
            }
            let answer = try WireJSON.decode(LogAppendResponse.self, from: response.body)
            shipped[id] = answer.size
            if !chunk.isEmpty && answer.size <= offset {
                // Bytes sent and none kept: the log is at the controller's cap. Sending them again is futile.
                log.warning("allocation \(id): the controller keeps no more of this log (its size cap)")
                unshippable.insert(id)
                return true
            }
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

    /// Asks the job's supervisor to stop it: SIGTERM to its process group, the grace period, then SIGKILL.
    func stop(_ id: String) {
        guard let job = running[id], !job.stopping, !job.ended else { return }
        running[id]?.stopping = true
        log.info("allocation \(id): stopping")
        let record = JobRecord(jobsDir: configuration.jobsDir, allocationID: id)
        record.requestCancel()
        // Only a supervisor that has recorded itself has its SIGUSR1 handler in place (before that the signal
        // would end it); one that has not yet will read the stop file when it starts.
        if let supervisor = record.liveSupervisor() { kill(supervisor, SIGUSR1) }
    }

    /// This binary, which is also every job's supervisor.
    static let executable: String = {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                readlink("/proc/self/exe", $0, pointer.count - 1)
            }
        }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : CommandLine.arguments[0]
    }()
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
