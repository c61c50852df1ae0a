import CLinuxShims
import ClusterCore
import ClusterWire
import CorralSupport
import Glibc
import LinuxSystem

/// A job's supervisor: `corral-agent supervise DIR`, started by the agent in a session of its own for each
/// job. It starts the job in a process group of its own, waits for it, carries out stop requests (SIGTERM to
/// the group, the grace period, SIGKILL), ends the job at its time limit, fences it when the agent's lease
/// runs out, and writes how the job ended once no process of the job is left. It outlives the agent, so
/// restarting the agent costs no job and no exit code. It is single-threaded, holds no connection and wakes
/// at most four times a second while the job runs.
enum Supervisor {
    static let command = "supervise"

    static func main(directory: String) -> Int32 {
        let record = JobRecord(directory: directory)
        guard let plan = record.plan() else {
            FileHandleOutput.stderr("corral-agent supervise: no readable launch.json in \(directory)\n")
            return 1
        }
        // Only the agent's files steer a supervisor; a stray signal to its session must not orphan the job.
        for number in [SIGINT, SIGHUP, SIGTERM, SIGPIPE] { signal(number, SIG_IGN) }
        wakeOnSIGUSR1()
        // The job's orphaned descendants become this process's children rather than init's: it can reap them,
        // so a job whose leader has exited is over only when they are gone too.
        _ = clinux_prctl_set_child_subreaper(1)
        record.writeSupervisorIdentity()
        // Before the job can fill the disk: a job that did would otherwise lose its exit code with it.
        if let failure = record.reserveExitRoom() { FileHandleOutput.stderr("corral-agent supervise: \(failure)\n") }
        let pid: pid_t
        do {
            pid = try plan.start()
        } catch {
            record.write(SupervisorExit(launchError: error.message, endedAtMs: SystemClock().now().milliseconds))
            return 0
        }
        // A job without cgroups is known after this process by its group alone: record who leads it.
        if plan.cgroup == nil { record.writeJobStart(pid) }
        record.write(pid: pid, to: record.jobPIDPath)
        let watched = watch(pid, plan, record)
        // exit.json says `cancel` for a preemption: an agent of an older version (after a rollback) knows no other.
        let recorded = watched.reason == .preempt ? .cancel : watched.reason
        var exit = SupervisorExit(stopReason: recorded, endedAtMs: SystemClock().now().milliseconds)
        // The job's processes' account, from the kernel: exact CPU time, the largest resident set; from its
        // cgroup's own counters where it has one (they count what escaped the process group too).
        exit.cpuSeconds = watched.cpuSeconds
        exit.maxResidentBytes = watched.maxResidentBytes
        if let cgroup = plan.cgroup {
            if let seconds = cgroup.cpuSeconds() { exit.cpuSeconds = max(seconds, watched.cpuSeconds) }
            if let peak = cgroup.memoryBytes()?.peak { exit.maxResidentBytes = peak }
            if cgroup.oomKills() > 0 { exit.outOfMemory = true }
            // Empty now (the watch ends only then); a job that made cgroups of its own below leaves them.
            cgroup.remove()
        }
        if let status = watched.status {
            let outcome = JobExit(waitStatus: status)
            exit.code = outcome.code
            exit.signal = outcome.signal
        } else {
            exit.launchError = "lost track of the job's process"
        }
        record.write(exit)
        return 0
    }

    /// Why to stop the job now, if at all, and the grace (nanoseconds) before SIGKILL. Fencing starts early
    /// enough, with a grace short enough, that the job is dead before the controller's lease runs out and it
    /// may start the job elsewhere (see `LeaseFile.fenceDeadline`).
    static func stopReason(
        _ plan: LaunchPlan,
        _ record: JobRecord,
        deadline: Int64?,
        now: Int64,
        checkpointedAt: Int64? = nil
    ) -> (StopReason, Int64)? {
        let grace = Int64(plan.graceSeconds) * 1_000_000_000
        if let requested = record.stopRequest() {
            // A preemption waits out the checkpoint signal's lead before its SIGTERM.
            let lead = checkpoint(plan).map { Int64($0.seconds) * 1_000_000_000 }
            if requested != .preempt || lead == nil || (checkpointedAt.map { now >= $0 + lead! } ?? false) {
                return (requested, grace)
            }
        }
        if let deadline, now >= deadline { return (.timeout, grace) }
        if let fence = LeaseFile.fenceDeadline(plan.leasePath, grace: plan.graceSeconds), now >= fence.at {
            return (.fence, fence.grace)
        }
        return nil
    }

    /// The job's checkpoint signal (`--signal USR1@120`), if it asked for one.
    static func checkpoint(_ plan: LaunchPlan) -> JobSignal? { plan.spec.checkpointSignal.flatMap(JobSignal.parse) }

    /// Whether the checkpoint signal is due: a preemption was asked for, or the time limit is that close.
    static func checkpointDue(_ signal: JobSignal, _ record: JobRecord, deadline: Int64?, now: Int64) -> Bool {
        if record.stopRequest() == .preempt { return true }
        guard let deadline else { return false }
        return now >= deadline - Int64(signal.seconds) * 1_000_000_000
    }

    /// SIGUSR1 does nothing but interrupt `poll`, so a stop request is acted on at once.
    static func wakeOnSIGUSR1() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGUSR1, &action, nil)
    }
}
