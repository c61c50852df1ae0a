import CLinuxShims
import CorralSupport
import Glibc
import LinuxSystem
import Synchronization

/// A running agent restarts onto the binary installed at its path by re-executing itself on SIGHUP: the same
/// pid (systemd sees no exit), the same arguments, every descriptor closed, and its jobs adopted by the new
/// process as after any restart (their supervisors never depended on the agent).
public enum AgentRestart {
    /// Replaces this process with the binary at `Agent.executable`. Returns only when that fails, with why;
    /// the caller then goes on running as it was.
    static func reexec() -> String {
        let path = Agent.executable
        let arguments = CommandLine.arguments
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        let keep = inherited
        _ = clinux_reexec(path, pointers, keep, Int32(keep.count))
        let failure = "cannot execute \(path): \(String(cString: strerror(errno)))"
        lastFailure.withLock {
            $0 = "the agent could not restart onto the new binary (\(failure)); it runs on as before"
        }
        return failure
    }

    /// Why this process's last restart failed, for the rollout that asked for it (`SelfUpdater`).
    static let lastFailure = Mutex<String?>(nil)

    /// The descriptors this process was given without close-on-exec (by whatever started it: a service
    /// manager's, a test harness's): they stay open across a re-exec, as they would in a process that had not
    /// restarted; every other descriptor is closed. Read at the top of `main`, before the agent opens any.
    public static let inherited: [Int32] = {
        let listed = Files.list("/proc/self/fd").compactMap { Int32($0) }.filter { $0 >= 3 }
        return listed.filter { fd in
            let flags = fcntl(fd, F_GETFD)
            return flags >= 0 && flags & FD_CLOEXEC == 0
        }
    }()

    /// `corral-agent update --restart`: asks the agent running with this configuration to restart (SIGHUP) and
    /// waits until it runs the binary now installed at `executable`. Returns its pid.
    static func restartRunning(
        _ configuration: AgentConfiguration,
        executable: String
    ) async throws(AgentUpdate.Failure)
        -> pid_t
    {
        guard let pid = AgentLock.runningPID(configuration) else {
            throw AgentUpdate.Failure(
                "no agent is running with state directory \(configuration.stateDir): start it (corral-agent start, "
                    + "or systemctl start corral-agent) and it runs the new binary"
            )
        }
        guard let installed = inode(executable) else {
            throw AgentUpdate.Failure("cannot read \(executable)")
        }
        if inode("/proc/\(pid)/exe") == installed { return pid }
        guard kill(pid, SIGHUP) == 0 else {
            throw AgentUpdate.Failure("cannot signal the agent (pid \(pid)): \(String(cString: strerror(errno)))")
        }
        for tick in 1...300 {
            if inode("/proc/\(pid)/exe") == installed { return pid }
            // An agent still starting up has not yet set its handler (it ignores SIGHUP until then): ask again,
            // while the pid still holds the agent's lock (an agent gone meanwhile may have left its pid to another).
            if tick % 50 == 0 && AgentLock.runningPID(configuration) == pid { kill(pid, SIGHUP) }
            guard Processes.alive(pid) else {
                throw AgentUpdate.Failure("the agent (pid \(pid)) exited instead of restarting: see its log")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        throw AgentUpdate.Failure("the agent (pid \(pid)) did not restart onto the new binary within 30 s: see its log")
    }

    /// The binary of the agent running with this configuration, if one runs.
    static func runningExecutable(_ configuration: AgentConfiguration) -> String? {
        AgentLock.runningPID(configuration).flatMap(Agent.binary(of:))
    }

    /// The device and inode of a file (following /proc/PID/exe to the running binary).
    static func inode(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }
}
