import CorralSupport
import Glibc

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

    /// Removes the pid file, if it is still this process's.
    func release() {
        if (try? Files.read(pidPath, limit: 64))?.trimmingWhitespace() == "\(getpid())" { unlink(pidPath) }
    }
}
