import CLinuxShims
import ClusterCore
import ClusterWire
import Glibc
import LinuxSystem

extension Supervisor {
    /// How the job ended: the leader's wait status (nil if it could not be waited for), why it was stopped if
    /// it was, and what all its reaped processes used.
    struct Watched {
        var status: Int32?
        var reason: StopReason?
        var cpuSeconds = 0.0
        var maxResidentBytes: Int64 = 0
    }

    /// Waits until no process of the job is left, acting meanwhile on stop requests, the time limit and the
    /// agent's lease. When the leader ends by itself, what it left behind is killed at once; when it ends on a
    /// stop, the rest get the grace, then SIGKILL (but for a container job, whose leader is the docker client, what
    /// it leaves is not the container's and goes at once). Either way the job is over only when its cgroup (or, on a
    /// node without cgroups, its process group) is empty, so a cancel never reports an end while a grandchild
    /// that ignores SIGTERM, or one that left the session with setsid, still runs.
    static func watch(_ pid: pid_t, _ plan: LaunchPlan, _ record: JobRecord) -> Watched {
        let pidFD = clinux_pidfd_open(pid, 0)
        defer { if pidFD >= 0 { close(pidFD) } }
        let deadline = plan.spec.timeLimit.map { Monotonic.nanoseconds() + Int64($0) * 1_000_000_000 }
        var watched = Watched()
        var leaderDone = false
        var emptyChecks = 0
        var killAt = Int64.max
        var stopper: pid_t?
        var checkpointedAt: Int64?
        // The job's process group while its number is the job's: the leader, unreaped, holds it; once it is
        // reaped, the group's other members do, and once none is left the number is free for any new process
        // (another job's session) and is never looked at or signalled again. The cgroup stays the job's.
        var group: pid_t? = pid
        let checkpoint = checkpoint(plan)
        while true {
            if pidFD >= 0 && !leaderDone {
                // Readable when the leader exits; SIGUSR1 from the agent (a stop request) interrupts the wait.
                var entry = pollfd(fd: pidFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&entry, 1, 250)
            } else {
                // What the leader left usually goes at once: look often at first, then four times a second.
                usleep(leaderDone && emptyChecks < 50 ? 20_000 : 250_000)
                if leaderDone { emptyChecks += 1 }
            }
            switch reap(leader: pid, stopper: &stopper, into: &watched) {
            case .leaderEnded: leaderDone = true
            case .lostTrack: return watched
            case .nothing: break
            }
            let now = Monotonic.nanoseconds()
            if leaderDone, let number = group, !Processes.groupAlive(number) { group = nil }
            // Over once no process of it is left: in its cgroup, nor in its group while the number is the job's.
            if leaderDone && group == nil && !(plan.cgroup?.populated() ?? false) { return watched }
            // The checkpoint signal, once: ahead of a preemption's SIGTERM, or of the time limit.
            if let checkpoint, checkpointedAt == nil, watched.reason == nil, !leaderDone,
                checkpointDue(checkpoint, record, deadline: deadline, now: now)
            {
                signalJob(group, plan.cgroup, checkpoint.number)
                checkpointedAt = now
            }
            if watched.reason == nil, !leaderDone,
                let (why, grace) = stopReason(
                    plan,
                    record,
                    deadline: deadline,
                    now: now,
                    checkpointedAt: checkpointedAt
                )
            {
                watched.reason = why
                // docker stop kills the container itself after the grace; its client goes later, as a backstop.
                let backstop: Int64 = plan.stopCommand == nil || why == .fence ? 0 : 10_000_000_000
                killAt = now + grace + backstop
                if let command = plan.stopCommand {
                    stopper = try? Processes.spawn(
                        command[0],
                        arguments: ContainerJob.withGrace(command, seconds: Int(grace / 1_000_000_000)),
                        environment: plan.environment,
                        options: SpawnOptions(
                            grouping: .newSession,
                            output: .appending(toFile: record.supervisorLogPath),
                            workingDirectory: "/"
                        )
                    )
                }
                // Without a stop command, or when it could not be started: the signal does it.
                if stopper == nil { signalJob(group, plan.cgroup, SIGTERM) }
            } else if leaderDone && watched.reason == nil {
                // The job ended by itself: whatever it left behind goes with it, now.
                signalJob(group, plan.cgroup, SIGKILL)
            } else if leaderDone && plan.stopCommand != nil {
                // The docker client ended on a stop, so the container is gone: what is left on the client's side
                // (not the container's) has no grace to wait for.
                signalJob(group, plan.cgroup, SIGKILL)
            } else if now >= killAt {
                signalJob(group, plan.cgroup, SIGKILL)
                killAt = now + 1_000_000_000  // again each second, until the group is empty
            }
            // A stop already under way (a cancel or the time limit, with a long grace) still ends by the fence:
            // the job must be dead before the controller may run it elsewhere.
            if watched.reason != nil && watched.reason != .fence,
                let fence = LeaseFile.fenceDeadline(plan.leasePath, grace: plan.graceSeconds), now >= fence.at
            {
                killAt = min(killAt, fence.at + fence.grace)
            }
        }
    }

    /// A signal to every process of the job: its process group while the number is the job's, and every process
    /// in its cgroup (SIGKILL through `cgroup.kill` where the kernel has it), so a process that left the group is
    /// not missed.
    static func signalJob(_ group: pid_t?, _ cgroup: JobCgroup?, _ signal: Int32) {
        if let group { Processes.signalGroup(group, signal) }
        guard let cgroup else { return }
        if signal == SIGKILL { cgroup.kill() } else { cgroup.signalAll(signal) }
    }

    enum Reaped { case nothing, leaderEnded, lostTrack }

    /// Reaps every child that has ended: the leader (its status is the job's), the job's orphaned
    /// descendants (this process is their subreaper) and the stop command. The job's account is the sum of
    /// its processes' CPU time and the largest resident set among them.
    static func reap(leader: pid_t, stopper: inout pid_t?, into watched: inout Watched) -> Reaped {
        var outcome = Reaped.nothing
        while true {
            var status: Int32 = 0
            var usage = rusage()
            let child = wait4(-1, &status, WNOHANG, &usage)
            if child < 0 {
                if errno == EINTR { continue }
                // No child at all while the leader's status is still unknown: it cannot be waited for.
                return errno == ECHILD && watched.status == nil && outcome != .leaderEnded ? .lostTrack : outcome
            }
            if child == 0 { return outcome }
            if child == stopper {
                stopper = nil
                continue
            }
            watched.cpuSeconds +=
                Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
            watched.maxResidentBytes = max(watched.maxResidentBytes, Int64(usage.ru_maxrss) * 1024)
            if child == leader {
                watched.status = status
                outcome = .leaderEnded
            }
        }
    }
}
