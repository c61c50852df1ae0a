import ClusterCore
import ClusterWire
import CorralSupport
import FoundationEssentials
import Glibc
import LinuxSystem

/// The jobs on this node: launched, adopted from an earlier agent process, followed until they end, reported
/// and forgotten. Each runs under a supervisor of its own (forked by the supervisor zygote), and agent and
/// supervisor talk only through the job's record in the state dir, so the agent can die and come back without
/// a job or an exit code lost (`JobTable+Follow.swift`).
actor JobTable {
    struct RunningJob: Sendable {
        let spec: LaunchSpec
        /// The job's pid, which is also its process group; nil until its supervisor has started it.
        var pid: pid_t?
        var supervisor: pid_t?
        /// The job's cgroups, as its plan decided them (nil until planned, or where it has none).
        var cgroup: JobCgroup?
        var stopping = false
        /// Over, but the controller does not have the exit yet: still reported as ours, so that registering
        /// meanwhile does not make the controller think the job vanished.
        var ended = false
    }

    let configuration: AgentConfiguration
    let log: any LogSink
    let bootID: String?
    let reporter: Reporter
    let shipper: LogShipper
    let sampler: UsageSampler
    let settings: LaunchSettings
    var running: [String: RunningJob] = [:]
    /// Every allocation this process has seen, so a launch delivered twice starts once.
    var seen: Set<String> = []
    var zygote = ZygoteHandle()
    var registryLoggedIn = false
    /// The node's stage cache; nil where agent.toml has no [stage].
    let stageCache: StageCache?
    /// Launches being prepared (`receive` to the supervisor's start or the failure's report).
    var launching = 0

    init(
        configuration: AgentConfiguration,
        log: any LogSink,
        bootID: String?,
        containment: Containment?,
        gpuIndices: [Int],
        reporter: Reporter,
        shipper: LogShipper,
        sampler: UsageSampler,
        stageCache: StageCache? = nil
    ) {
        self.stageCache = stageCache
        self.configuration = configuration
        self.log = log
        self.bootID = bootID
        self.reporter = reporter
        self.shipper = shipper
        self.sampler = sampler
        // What every plan reads of the node: fixed for the agent's life, read once.
        settings = LaunchSettings(
            logDir: configuration.logDir,
            leasePath: configuration.leasePath,
            bootID: bootID,
            docker: configuration.docker,
            killGraceSeconds: Int(configuration.killGrace.components.seconds),
            agentEnvironment: Processes.currentEnvironment(),
            nodeID: configuration.nodeID,
            agentUID: getuid(),
            containment: containment,
            gpuDevices: Self.deviceNodes(gpuIndices, in: configuration.deviceDir),
            deviceMask: configuration.deviceMaskPath
        )
    }

    /// `DIR/nvidiaN` for each GPU index whose device node exists (the minor number of NVIDIA's device nodes
    /// is the GPU's index in nvidia-smi's order on the nodes we know; a node where it is not should name its
    /// GPUs by declaring them).
    static func deviceNodes(_ indices: [Int], in directory: String) -> [Int: String] {
        var nodes: [Int: String] = [:]
        for index in indices {
            let path = "\(directory)/nvidia\(index)"
            if access(path, F_OK) == 0 { nodes[index] = path }
        }
        return nodes
    }

    /// The empty file of mode 0000 a job's hidden devices are mounted over.
    static func makeDeviceMask(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0)
        if fd >= 0 {
            fchmod(fd, 0)
            close(fd)
        }
    }

    /// Every allocation the agent holds, with its latest usage, for registration and heartbeats.
    func runningReports() async -> [RunningAllocation] {
        let usage = await sampler.usage
        return running.sorted { $0.key < $1.key }.map {
            RunningAllocation(allocationId: $0.key, pid: $0.value.pid, usage: usage[$0.key])
        }
    }

    /// Takes the launches of one answer: every new one is the agent's at once (listed in heartbeats, its record
    /// there for a stop to land in, its STARTING report on its way), before any of them waits for anything (a
    /// registry login, a slow filesystem), so the controller never gives up a launch the agent is about to
    /// start. Each then starts on its own.
    func receive(_ specs: [LaunchSpec]) {
        for spec in specs where !seen.contains(spec.allocationId) {
            let id = spec.allocationId
            seen.insert(id)
            running[id] = RunningJob(spec: spec)
            try? JobRecord(jobsDir: configuration.jobsDir, allocationID: id).prepare()
            reporter.send(id, AllocationStatusRequest(phase: .starting))
            launching += 1
            Task {
                await launch(spec)
                launched()
            }
        }
    }

    /// A launch that came in right after a network cut would be fenced at once on the lease file's stale
    /// renewal (issue 18): it waits, up to a few seconds, for the heartbeat that renews it. After that it starts
    /// anyway, and its supervisor fences it if the lease really is gone.
    func waitForFreshLease(grace: Int) async {
        let path = configuration.leasePath
        // A loop that stops at the first fresh read: `for ... where` would filter instead, and read the file
        // fifty times for every launch whose lease is fresh (1-2 ms of the agent's actor per job).
        var waits = 0
        while waits < 50 && !LeaseFile.isFresh(path, grace: grace, margin: .seconds(1)) {
            waits += 1
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Starts the job's supervisor, which starts the job. Launch failures found before that (cwd missing,
    /// command not found, permission denied) are reported at once as such.
    func launch(_ spec: LaunchSpec) async {
        let id = spec.allocationId
        let record = JobRecord(jobsDir: configuration.jobsDir, allocationID: id)
        var supervisor: pid_t?
        do {
            if spec.image != nil && !registryLoggedIn {
                registryLoggedIn = try await RegistryLogin.logIn(configuration, log: log)
            }
            // The checks touch the job's filesystem (an NFS cwd can hang): off this actor, which heartbeats need.
            let settings = settings
            var plan = try await Threads.run {
                Result { () throws(LaunchError) in try LaunchPlan.make(spec, settings) }
            }
            .get()
            if let stages = spec.stage, !stages.isEmpty { try await stageIn(stages, for: id, into: &plan) }
            if spec.image == nil, let hostfile = Hostfile.write(spec, account: plan.account) {
                do {
                    try Files.writeAtomically(record.hostfilePath, hostfile, durable: false)
                } catch {
                    Hostfile.remove(hostfile)
                    throw error
                }
                plan.environment["CORRAL_HOSTFILE"] = hostfile
            }
            try record.create(plan)
            await waitForFreshLease(grace: plan.graceSeconds)
            running[id]?.cgroup = plan.cgroup
            await shipper.track(id)
            let zygoteLog = configuration.stateDir + "/zygote.log"
            if !zygote.start(record.directory, executable: Agent.executable, log: zygoteLog) {
                // No zygote: execute a supervisor directly (slower to start, the same otherwise).
                supervisor = try Processes.spawn(
                    Agent.executable,
                    arguments: [Agent.executable, Supervisor.command, record.directory],
                    environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
                    options: SpawnOptions(
                        grouping: .newSession,
                        output: .appending(toFile: record.supervisorLogPath),
                        workingDirectory: "/"
                    )
                )
            }
        } catch {
            running[id] = nil
            await shipper.forget(id)
            await stageCache?.release(allocation: id)
            record.remove()
            log.warning("allocation \(id): launch failed: \(error)")
            var report = AllocationStatusRequest(phase: .launchFailed, message: "\(error)")
            if let failure = error as? LaunchError, failure.nodeFault { report.nodeFault = true }
            reporter.send(id, report)
            return
        }
        running[id]?.supervisor = supervisor
        follow(id, record, supervisor: supervisor, child: supervisor != nil)
    }

    /// Copies the job's stage sources into the node's cache (as the job's account) and tells the job where
    /// they are: `CORRAL_STAGE_<NAME>` each, and `CORRAL_STAGE_DIR`, the cache. Kept in the plan for an agent
    /// restarted while the job runs.
    func stageIn(_ stages: [StageSource], for id: String, into plan: inout LaunchPlan) async throws(LaunchError) {
        guard let stageCache else {
            throw LaunchError("stage-in: this node has no stage cache ([stage] in its agent.toml)", nodeFault: true)
        }
        do {
            let reporter = reporter
            let (paths, keys) = try await stageCache.acquire(stages, account: plan.account, allocation: id) { text in
                reporter.send(id, AllocationStatusRequest(phase: .staging, message: text))
            }
            for (name, path) in paths { plan.environment["CORRAL_STAGE_\(name)"] = path }
            plan.environment["CORRAL_STAGE_DIR"] = stageCache.directory
            plan.stageKeys = keys
        } catch let failure as StageCache.Failure {
            throw LaunchError("stage-in: \(failure)", nodeFault: failure.nodeFault)
        } catch {
            throw LaunchError("stage-in: \(error)", nodeFault: true)
        }
    }

    private func launched() { launching -= 1 }

    /// Before a restart: waits (heartbeats go on) until no launch is being prepared (a stage-in copy can take
    /// minutes), so none is half done when the process is replaced; at most `limit`.
    func waitForLaunches(upTo limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while launching > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        if launching > 0 { log.warning("restarting with \(launching) launch(es) still being prepared") }
    }

    /// Ends the supervisor zygote (not the supervisors it started), before a restart.
    func stopZygote() { zygote.stop() }

    /// What `corral exec` into the allocation needs: its plan and its running pid (nil when it does not run).
    func execContext(_ id: String) -> (LaunchPlan?, pid_t?) {
        guard let job = running[id], !job.ended, !job.stopping, let pid = job.pid else { return (nil, nil) }
        return (JobRecord(jobsDir: configuration.jobsDir, allocationID: id).plan(), pid)
    }

    /// Asks the job's supervisor to stop it: SIGTERM to its process group, the grace period, then SIGKILL.
    func stop(_ id: String, preempt: Bool = false) {
        guard let job = running[id], !job.stopping, !job.ended else { return }
        running[id]?.stopping = true
        log.info("allocation \(id): stopping\(preempt ? " (preempted)" : "")")
        let record = JobRecord(jobsDir: configuration.jobsDir, allocationID: id)
        record.requestStop(preempt ? .preempt : .cancel)
        // Only a supervisor that has recorded itself has its SIGUSR1 handler in place (before that the signal
        // would end it); one that has not yet will read the stop file when it starts.
        if let supervisor = record.liveSupervisor() { kill(supervisor, SIGUSR1) }
    }
}
