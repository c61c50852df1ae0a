import CorralSupport
import Glibc
import LinuxSystem

/// One agent per state directory. Two agents on one directory would both register as the node, take each
/// other's token and adopt each other's jobs; so `start` takes an exclusive lock on `STATE_DIR/agent.lock`
/// (flock, released by the kernel when the process dies however it dies) before anything else, and only the
/// lock's holder writes and removes the pid file that `status` and `stop` read.
final class AgentLock {
    private let descriptor: Int32
    private let pidPath: String

    private init(descriptor: Int32, pidPath: String) {
        self.descriptor = descriptor
        self.pidPath = pidPath
    }

    deinit { close(descriptor) }

    static func acquire(_ configuration: AgentConfiguration) throws -> AgentLock {
        try Files.makeDirectories(configuration.stateDir, mode: 0o700)
        let path = configuration.stateDir + "/agent.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AgentFailure("cannot open \(path): \(String(cString: strerror(errno)))", fatal: true)
        }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let reason = errno
            close(descriptor)
            guard reason == EWOULDBLOCK else {
                throw AgentFailure("cannot lock \(path): \(String(cString: strerror(reason)))", fatal: true)
            }
            let holder = (try? Files.read(configuration.pidPath, limit: 64))?.trimmingWhitespace()
            throw AgentFailure(
                "another corral-agent\(holder.map { " (pid \($0))" } ?? "") is already running with state directory "
                    + "\(configuration.stateDir): stop it first (corral-agent stop), or give this one another "
                    + "state_dir",
                fatal: true
            )
        }
        try Files.writeAtomically(configuration.pidPath, "\(getpid())\n", mode: 0o644)
        return AgentLock(descriptor: descriptor, pidPath: configuration.pidPath)
    }

    /// The pid of the agent running with this state directory, which `status`, `stop` and `update` signal: the
    /// lock's holder (`holder`), or, only when that cannot be told, the pid file's process if it is alive. The pid
    /// file alone could name a dead agent's pid that the kernel has given to another process since, or say 0 or -1,
    /// which `kill` takes as the caller's own process group and every process (docs/operations.md).
    static func runningPID(_ configuration: AgentConfiguration) -> pid_t? {
        switch holder(configuration) {
        case .process(let pid): return pid
        case .free: return nil
        case .unknown: return pidFilePID(configuration)
        }
    }

    /// The pid file's pid, when it is one above 1 of a live process.
    static func pidFilePID(_ configuration: AgentConfiguration) -> pid_t? {
        guard let text = try? Files.read(configuration.pidPath, limit: 64),
            let pid = pid_t(text.trimmingWhitespace()), Processes.alive(pid)
        else { return nil }
        return pid
    }

    /// Who holds the state directory's lock, from `/proc/locks`: the running agent's pid, `.free` when no process
    /// holds it (no agent runs with this state directory, whatever the pid file says), `.unknown` when it cannot be
    /// told (`/proc/locks` unreadable, or a holder outside this pid namespace).
    enum Holder: Equatable {
        case process(pid_t)
        case free, unknown
    }

    static func holder(_ configuration: AgentConfiguration) -> Holder {
        var info = stat()
        // No lock file: no agent ever started with this state directory (`acquire` makes it before the pid file).
        guard stat(configuration.stateDir + "/agent.lock", &info) == 0 else {
            return errno == ENOENT ? .free : .unknown
        }
        guard let text = try? Files.read("/proc/locks", limit: 1 << 22) else { return .unknown }
        let device = UInt64(info.st_dev)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        for line in text.split(separator: "\n") where !line.contains("->") {
            // "1: FLOCK  ADVISORY  WRITE 15922 fe:00:16226085 0 EOF": the pid, then the device (hex) and inode.
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "FLOCK" else { continue }
            let place = fields[5].split(separator: ":")
            guard place.count == 3, UInt64(place[0], radix: 16) == major, UInt64(place[1], radix: 16) == minor,
                UInt64(place[2]) == UInt64(info.st_ino)
            else { continue }
            guard let pid = pid_t(fields[4]), pid > 1 else { return .unknown }
            return .process(pid)
        }
        return .free
    }

    /// Removes the pid file, if it is still this process's.
    func release() {
        if (try? Files.read(pidPath, limit: 64))?.trimmingWhitespace() == "\(getpid())" { unlink(pidPath) }
    }
}
