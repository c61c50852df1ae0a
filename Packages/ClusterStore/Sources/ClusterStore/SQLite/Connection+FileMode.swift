internal import Glibc

extension Connection {
    /// Database files readable by their owner only. SQLite creates a new database 0644 (less the umask) and gives
    /// its `-wal` and `-shm` files the database's mode; the cluster's database holds every job's environment,
    /// so it is created 0600 before SQLite opens it, and an existing one (with its journals) is brought to 0600.
    static func restrictFileMode(_ path: String) {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd >= 0 {
            _ = fchmod(fd, 0o600)
            close(fd)
        }
        for suffix in ["-wal", "-shm", "-journal"] { _ = chmod(path + suffix, 0o600) }
    }
}
