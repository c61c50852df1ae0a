import ClusterCore
import ClusterWire
import CorralSupport
import Glibc
import LinuxSystem

/// Following a job from its start to the controller having its exit: the supervisor writes job.pid when the job
/// runs and exit.json when every process of it is gone; the agent reports both, ships the log whole, then
/// removes the record.
extension JobTable {
    /// Reports the job running once its supervisor has started it, then waits (on a thread of its own) for the
    /// supervisor to end and reports how the job ended. `supervisor` is nil when the zygote started it: its pid
    /// is read from the record, where the supervisor writes it before it starts the job.
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
                await started(id, record.jobPID())
            }
            // Written before the job starts; nil also when it has already ended (exit.json says how).
            guard let watched = supervisor ?? record.liveSupervisor() else {
                await finished(id)
                return
            }
            running[id]?.supervisor = watched
            await Threads.runDedicated { Processes.waitForExit(watched, child: child) }
            await finished(id)
        }
    }

    func started(_ id: String, _ pid: pid_t?) async {
        guard let pid, let job = running[id], job.pid == nil else { return }
        running[id]?.pid = pid
        if job.spec.image == nil { await sampler.watch(id, group: pid, cgroup: job.cgroup) }
        log.info("allocation \(id): started pid \(pid) on GPUs \(job.spec.gpuIndices)")
        reporter.send(id, AllocationStatusRequest(phase: .running, pid: pid))
    }

    /// The supervisor is gone: report what it wrote, once the log is shipped whole, then forget the job.
    func finished(_ id: String) async {
        guard let job = running[id], !job.ended else { return }
        running[id]?.ended = true
        await sampler.unwatch(id)
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
                report = Self.report(exit, sampled: await sampler.usage[id])
                let outcome = JobStateMachine.describe(JobExit(code: exit.code, signal: exit.signal))
                log.info("allocation \(id): \(outcome)\(exit.stopReason.map { " (\($0.rawValue))" } ?? "")")
            }
        } else {
            // The supervisor was killed before it could write anything: what is left of the job goes too, and the
            // job is reported ended only once none of it runs (its zombies are not ours to reap). Through its
            // cgroup where it has one, and then only there: the cgroup is this allocation's alone, where the
            // process group's number is free again once the job's last process is gone, and may since be another
            // job's (the supervisor may have died long before this agent looks). A job without cgroups (on an
            // uncontained node, or a container job, whose docker client the supervisor ran) has only its group,
            // and only while its leader runs as recorded: the leader holds the number then.
            let pid = job.pid ?? record.jobPID()
            let cgroup = record.plan()?.cgroup
            let leaderRuns = pid.map(record.leaderRuns) ?? false
            await Threads.runDedicated {
                if let cgroup {
                    while cgroup.populated() {
                        cgroup.kill()
                        usleep(20_000)
                    }
                    cgroup.remove()
                } else if let pid, leaderRuns {
                    while Processes.groupRuns(pid) {
                        Processes.signalGroup(pid, SIGKILL)
                        usleep(20_000)
                    }
                }
            }
            // Nothing was killed where the leader was gone and no cgroup holds the rest: say so, not "killed".
            let outcome =
                cgroup != nil || leaderRuns || pid == nil
                ? "the job was killed"
                : "its leader had ended; what may be left in process group \(pid ?? 0) cannot be told from another "
                    + "process's and was left"
            log.warning("allocation \(id): its supervisor died without a word; \(outcome)")
            report = AllocationStatusRequest(
                phase: .exited,
                signal: SIGKILL,
                message: "its supervisor on the node died unexpectedly; \(outcome)"
            )
        }
        // The log is shipped whole before the exit is reported, so a finished job's log is complete; the
        // record goes only once the controller has the report, so an agent restart in between loses nothing.
        Task {
            await shipper.finish(id)
            reporter.send(id, report) { Task { await self.forget(id, record) } }
        }
    }

    func forget(_ id: String, _ record: JobRecord) async {
        running[id] = nil
        await sampler.forget(id)
        await stageCache?.release(allocation: id)
        record.remove()
    }

    static func report(_ exit: SupervisorExit, sampled: UsageReport?) -> AllocationStatusRequest {
        let message: String?
        switch exit.stopReason {
        case .fence:
            message = "stopped by its agent: the controller was out of reach for longer than the allocation lease"
        case nil where exit.outOfMemory == true:
            message = "the kernel killed it at the memory limit it asked for (--mem): ask for more memory"
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
            ),
            outOfMemory: exit.outOfMemory == true ? true : nil
        )
    }

    /// Jobs that earlier agent processes started: watched again where their supervisors still run, reported
    /// where they ended while no agent was there to see it.
    func adopt() async {
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
            if let keys = plan.stageKeys { await stageCache?.adopt(allocation: id, keys: keys) }
            await shipper.track(id)
            // The pid is learnt again by `follow`, which reports the job running (a no-op for the controller
            // unless the earlier agent died before it could say so).
            running[id] = RunningJob(spec: plan.spec, cgroup: plan.cgroup)
            if record.exit() != nil {
                log.info("allocation \(id): ended while the agent was away")
                await finished(id)
            } else if let supervisor = record.liveSupervisor() {
                log.info("allocation \(id): adopted (supervisor \(supervisor))")
                follow(id, record, supervisor: supervisor, child: false)
            } else if !Files.exists(record.supervisorPIDPath) {
                // Started an instant before the last agent died: give the supervisor its moment to say so.
                follow(id, record, supervisor: nil, child: false)
            } else {
                await finished(id)  // its supervisor is gone without a word: reported as such
            }
        }
    }
}
