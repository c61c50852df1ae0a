import CLinuxShims
import ClusterCore
import ClusterWire
import CorralSupport
import Glibc
import LinuxSystem

/// A job's supervisor: `corral-agent supervise DIR`, started by the agent in a session of its own for each
/// job. It starts the job in a process group of its own, waits for it, carries out stop requests (SIGTERM to
/// the group, the grace period, SIGKILL), ends the job at its time limit, fences it when the agent's lease
/// runs out, and writes how the job ended. It outlives the agent, so restarting the agent costs no job and no
/// exit code. It is single-threaded, holds no connection and wakes at most four times a second.
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
        record.writeSupervisorIdentity()
        let job = JobLauncher.Plan(
            executable: plan.executable,
            arguments: plan.arguments,
            environment: plan.environment,
            cwd: plan.cwd,
            logPath: plan.logPath
        )
        let pid: pid_t
        do {
            pid = try JobLauncher.spawn(job)
        } catch {
            record.write(SupervisorExit(launchError: error.message, endedAtMs: SystemClock().now().milliseconds))
            return 0
        }
        record.write(pid: pid, to: record.jobPIDPath)
        var usage = rusage()
        let (status, reason) = watch(pid, plan, record, &usage)
        // The leader is gone; whatever it left in its group belongs to the job and goes with it.
        if Processes.groupAlive(pid) { Processes.signalGroup(pid, SIGKILL) }
        var exit = SupervisorExit(stopReason: reason, endedAtMs: SystemClock().now().milliseconds)
        // The leader's and its reaped descendants' account, from the kernel: exact CPU time, largest RSS.
        exit.cpuSeconds =
            Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        exit.maxResidentBytes = Int64(usage.ru_maxrss) * 1024
        if let status {
            let outcome = JobExit(waitStatus: status)
            exit.code = outcome.code
            exit.signal = outcome.signal
        } else {
            exit.launchError = "lost track of the job's process"
        }
        record.write(exit)
        return 0
    }

    /// Waits for the job, acting meanwhile on stop requests, the time limit and the agent's lease. Returns the
    /// wait status (nil if the process could not be waited for) and why it was stopped, if it was.
    static func watch(
        _ pid: pid_t,
        _ plan: SupervisorPlan,
        _ record: JobRecord,
        _ usage: inout rusage
    ) -> (Int32?, StopReason?) {
        let pidFD = clinux_pidfd_open(pid, 0)
        defer { if pidFD >= 0 { close(pidFD) } }
        let deadline = plan.spec.timeLimit.map { Monotonic.nanoseconds() + Int64($0) * 1_000_000_000 }
        var reason: StopReason?
        var killAt = Int64.max
        var stopper: pid_t?
        while true {
            if pidFD >= 0 {
                // Readable when the job exits; SIGUSR1 from the agent (a stop request) interrupts the wait.
                var entry = pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, 250)
            } else {
                usleep(100_000)
            }
            var status: Int32 = 0
            let result = wait4(pid, &status, WNOHANG, &usage)
            if result == pid { return (status, reason) }
            if result < 0 && errno != EINTR { return (nil, reason) }
            if let running = stopper, waitpid(running, nil, WNOHANG) != 0 { stopper = nil }
            let now = Monotonic.nanoseconds()
            if reason == nil, let (why, grace) = stopReason(plan, record, deadline: deadline, now: now) {
                reason = why
                // docker stop kills the container itself after the grace; its client goes later, as a backstop.
                let backstop: Int64 = plan.stopCommand == nil || why == .fence ? 0 : 10_000_000_000
                killAt = now + grace + backstop
                if let command = plan.stopCommand {
                    stopper = try? JobLauncher.spawn(
                        JobLauncher.Plan(
                            executable: command[0],
                            arguments: command,
                            environment: plan.environment,
                            cwd: "/",
                            logPath: record.supervisorLogPath
                        )
                    )
                } else {
                    Processes.signalGroup(pid, SIGTERM)
                }
            } else if now >= killAt {
                Processes.signalGroup(pid, SIGKILL)
                killAt = .max
            }
        }
    }

    /// Why to stop the job now, if at all, and the grace (nanoseconds) before SIGKILL. Fencing starts early
    /// enough, with a grace short enough, that the job is dead before the controller's lease runs out and it
    /// may start the job elsewhere (see `LeaseFile.fenceDeadline`).
    static func stopReason(
        _ plan: SupervisorPlan,
        _ record: JobRecord,
        deadline: Int64?,
        now: Int64
    ) -> (StopReason, Int64)? {
        let grace = Int64(plan.graceSeconds) * 1_000_000_000
        if let requested = record.stopRequest() { return (requested, grace) }
        if let deadline, now >= deadline { return (.timeout, grace) }
        if let fence = LeaseFile.fenceDeadline(plan.leasePath, grace: plan.graceSeconds), now >= fence.at {
            return (.fence, fence.grace)
        }
        return nil
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
