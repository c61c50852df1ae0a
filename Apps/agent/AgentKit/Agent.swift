import ClusterCore
import ClusterWire
public import CorralSupport
import Glibc
import LinuxSystem
import NodeProbe

/// The agent: what the node has, and its parts run as one structured task group until SIGTERM or SIGINT:
/// the controller link (registration, heartbeats, the long poll for work), the job table (launch, adopt,
/// follow, finish), the log shipper and the usage sampler. Jobs run under supervisors of their own and outlive
/// the agent.
public struct Agent: Sendable {
    let configuration: AgentConfiguration
    let log: any LogSink
    let inventory: NodeInventory
    let bootID: String?
    /// How jobs are contained here (cgroups), decided once at start.
    let containment: Containment
    let link: ControllerLink
    let reporter: Reporter
    let shipper: LogShipper
    let sampler: UsageSampler
    let jobs: JobTable
    let execRunner: ExecRunner
    let updater: SelfUpdater

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
        bootID = NodeProber.bootID()
        containment = Containment.prepare(parent: configuration.cgroupParent)
        let measured = ["nvidia-smi", "nvml"].contains(inventory.gpuSource)
        let link = ControllerLink(configuration: configuration, log: log)
        self.link = link
        reporter = Reporter(
            log: log,
            node: configuration.nodeID,
            maxDelay: configuration.endpoints.count > 1 ? .milliseconds(500) : .seconds(5),
            client: { await link.client }
        )
        shipper = LogShipper(logDir: configuration.logDir, log: log, client: { await link.client })
        sampler = UsageSampler(
            gpuProber: measured ? prober : nil,
            initialGPUs: measured ? GPUReports.from(inventory.gpus) : nil
        )
        updater = SelfUpdater(configuration: configuration, log: log)
        execRunner = ExecRunner(node: configuration.nodeID, log: log, client: { await link.client })
        jobs = JobTable(
            configuration: configuration,
            log: log,
            bootID: bootID,
            containment: containment.problem == nil ? containment : nil,
            gpuIndices: inventory.gpus.map(\.index),
            reporter: reporter,
            shipper: shipper,
            sampler: sampler,
            stageCache: configuration.stageCacheDir.map {
                StageCache(
                    directory: $0,
                    limit: configuration.stageCacheSize,
                    roots: configuration.stageRoots,
                    log: log
                )
            }
        )
    }

    /// Runs until SIGTERM or SIGINT (a stop) or SIGHUP (a restart). Jobs run under supervisors of their own
    /// and outlive the agent.
    public func run() async throws -> Exit {
        _ = Self.executable  // its path now, before an update can replace it
        let lock = try AgentLock.acquire(configuration)
        defer { lock.release() }
        for warning in inventory.warnings { log.warning(warning) }
        log.info(
            "node \(configuration.nodeID): \(inventory.gpus.count) GPUs (\(inventory.gpuSource)), "
                + "\(inventory.cpus) CPUs, \(ByteSize.format(inventory.memoryBytes)) memory"
        )
        if let problem = containment.problem {
            guard configuration.allowUncontained else {
                throw ConfigurationFailure(
                    "jobs cannot be contained in cgroups on this node (\(problem)); an admin who accepts running "
                        + "them uncontained sets allow_uncontained = true in [isolation] (corral-agent configure "
                        + "--allow-uncontained)"
                )
            }
            log.warning("running jobs WITHOUT cgroups (\(problem)): allowed by [isolation] allow_uncontained")
        } else {
            log.info("jobs are contained: \(containment.summary)")
        }
        // Jobs run as other accounts: nothing of the agent's (tokens, records, logs) may be readable to them.
        try Files.makeDirectories(configuration.stateDir, mode: 0o700)
        chmod(configuration.stateDir, 0o700)
        try Files.makeDirectories(configuration.logDir, mode: 0o700)
        try RecordsDirectory.prepare(configuration, log: log)
        JobTable.makeDeviceMask(configuration.deviceMaskPath)
        await jobs.adopt()
        try await register()
        let exit: Exit = await withTaskGroup(of: Void.self) { group in
            group.addTask { await heartbeats() }
            group.addTask { await polls() }
            group.addTask { await shipper.run() }
            group.addTask { [link] in await sampler.run { await link.settings.heartbeatInterval } }
            group.addTask { for await id in reporter.stops { await jobs.stop(id) } }
            let signal = await Signals.wait(for: [SIGTERM, SIGINT, SIGHUP])
            if signal == SIGHUP {
                log.info("received SIGHUP: restarting onto \(Self.executable) (running jobs keep running)")
                await jobs.waitForLaunches(upTo: .seconds(1800))
            } else {
                log.info("received signal \(signal): stopping (running jobs keep running)")
            }
            group.cancelAll()
            return signal == SIGHUP ? .restart : .stop
        }
        if exit == .restart {
            await jobs.stopZygote()
            TrialGuard.arm()
        }
        return exit
    }

    // MARK: The loops

    func register() async throws {
        let stops = try await link.registerUntilAccepted { await registration() }
        TrialGuard.passed()
        for id in stops { await jobs.stop(id) }
    }

    /// After the controller forgot this node's token. A refusal (the node was revoked) is logged, and the loops
    /// go on trying: an admin may readmit the node.
    func registerAgain() async {
        do {
            try await register()
        } catch {
            log.warning("cannot register again: \(error)")
            try? await Task.sleep(for: .seconds(1))
        }
    }

    func registration() async -> RegisterRequest {
        RegisterRequest(
            nodeId: configuration.nodeID,
            hostname: inventory.hostname,
            bootId: bootID,
            cpus: inventory.cpus,
            memory: inventory.memoryBytes,
            gpus: GPUReports.from(inventory.gpus),
            labels: Self.labels(configuration),
            agentVersion: AgentVersion.current,
            running: await jobs.runningReports(),
            gpuTopology: inventory.gpuTopology,
            allocationLeaseMs: await link.heldLease.map { Int($0.milliseconds) },
            containment: containment.summary,
            address: configuration.address,
            agentBuild: Self.build
        )
    }

    func heartbeats() async {
        var late = false
        while !Task.isCancelled {
            // An answer that took longer than an interval renewed the lease as of when it was sent: renew again
            // at once rather than an interval later, so jobs and launches are not fenced on a stale renewal.
            if !late { try? await Task.sleep(for: await link.settings.heartbeatInterval) }
            let sentAt = Monotonic.nanoseconds()
            guard !Task.isCancelled else { return }
            let diskFree = AgentChecks.freeBytes(configuration.logDir)
            var problems = AgentChecks.selfCheck(configuration, diskFree: diskFree)
            if await sampler.gpuQueryFailed { problems.append("the GPU query (NVML or nvidia-smi) failed or hung") }
            var request = HeartbeatRequest(
                bootId: bootID,
                running: await jobs.runningReports(),
                gpus: await sampler.latestGPUs,
                healthy: problems.isEmpty,
                message: problems.isEmpty ? nil : problems.joined(separator: "; "),
                diskFree: diskFree,
                allocationLeaseMs: await link.heldLease.map { Int($0.milliseconds) },
                updateError: await updater.pendingError
            )
            request.stageCache = jobs.stageCache?.report()
            let answer = await link.heartbeat(request)
            late =
                Monotonic.nanoseconds() - sentAt > Int64(await link.settings.heartbeatInterval.milliseconds) * 1_000_000
            switch answer {
            case .answered(let orders):
                if request.updateError != nil { await updater.answered() }
                for id in orders.stop { await jobs.stop(id, preempt: orders.preempt.contains(id)) }
                if let order = orders.update { await updater.handle(order) }
            case .unknownNode:
                log.warning("the controller no longer knows this node: registering again")
                await registerAgain()
            case .failed(let message):
                log.warning(message)
            }
        }
    }

    func polls() async {
        var failures = 0
        while !Task.isCancelled {
            switch await link.poll() {
            case .answered(let work):
                failures = 0
                for id in work.stop { await jobs.stop(id, preempt: work.preempt?.contains(id) == true) }
                await jobs.receive(work.launch)
                for request in work.exec ?? [] {
                    Task { [jobs, execRunner] in
                        let (plan, pid) = await jobs.execContext(request.allocationId)
                        await execRunner.run(request, plan: plan, pid: pid)
                    }
                }
            case .unknownNode:
                await registerAgain()
            case .failed(let message):
                guard !Task.isCancelled else { return }
                failures += 1
                // With several controllers the next one is asked at once, and a failover is over within the
                // leader's lease (seconds): wait no longer than half a second between tries.
                let most: Duration = configuration.endpoints.count > 1 ? .milliseconds(500) : .seconds(5)
                let delay = Backoff(initial: .milliseconds(200), maximum: most).baseDelay(attempt: failures)
                log.warning("\(message); retrying in \(delay)")
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// This binary, which is also every job's supervisor: its path when the process started (a binary
    /// replaced since by an update reads as "PATH (deleted)" in /proc/self/exe; the path is the new one's).
    static let executable: String = binary(of: getpid()) ?? CommandLine.arguments[0]

    /// The path of the binary a process runs (/proc/PID/exe, without the " (deleted)" of a replaced one).
    static func binary(of pid: pid_t) -> String? {
        guard let path = Files.linkTarget("/proc/\(pid)/exe") else { return nil }
        return path.hasSuffix(" (deleted)") ? String(path.dropLast(" (deleted)".count)) : path
    }

    /// The SHA-256 of this binary, read once at start: which build it is. Hashed by coreutils' `sha256sum`
    /// (47 ms for the 13 MB release binary) rather than here: reading the binary in would add its size to the
    /// agent's peak memory, and hashing with OpenSSL would load and touch about 3 MB of libcrypto that a plain
    /// http agent never needs otherwise (issue 16's agent RSS). /proc/PID/exe is the binary this process runs,
    /// even when an update has replaced the file at its path since. Nil where sha256sum is missing.
    static let build: String? = {
        guard
            let result = try? CommandRunner.run("/usr/bin/sha256sum", ["/proc/\(getpid())/exe"], timeout: .seconds(30)),
            result.status == 0
        else { return nil }
        let digest = String(result.stdout.prefix(64))
        return AgentBuild.isSHA256(digest) ? digest : nil
    }()

    /// The node's labels: agent.toml's, and those the agent sets itself (`NodeLabels`): a container runtime, a
    /// stage cache with its roots.
    static func labels(_ configuration: AgentConfiguration) -> [String: String] {
        var labels = configuration.labels
        if configuration.docker != nil { labels[NodeLabels.containers] = "docker" }
        if configuration.stageCacheDir != nil && !configuration.stageRoots.isEmpty {
            labels[NodeLabels.stage] = configuration.stageRoots.joined(separator: ",")
        }
        return labels
    }

    /// How `run` ended: a stop (SIGTERM, SIGINT) or a restart onto the installed binary (SIGHUP).
    public enum Exit: Sendable { case stop, restart }
}

public enum AgentVersion {
    public static let current = "0.1.0"
}
