internal import CLinuxShims
internal import Glibc

/// Watching and signalling processes by pid. A process started in a session or process group of its own
/// (`SpawnOptions.Grouping`) leads a group whose id is its pid, so `-pid` reaches every descendant that
/// stayed in it.
public enum Processes {
    /// Blocks (call it from a thread of its own, see `Threads`) until the process ends: a child is reaped; any
    /// other process (one an earlier run of the caller started) is watched through a pidfd, or by polling on
    /// kernels before 5.3.
    public static func waitForExit(_ pid: Int32, child: Bool) {
        if child {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return
        }
        let descriptor = clinux_pidfd_open(pid, 0)
        if descriptor >= 0 {
            defer { close(descriptor) }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            while poll(&entry, 1, -1) < 0 && errno == EINTR {}
            return
        }
        while alive(pid) { usleep(200_000) }
    }

    /// Whether the process exists (a zombie not yet reaped counts). Never true for pids under 2: `kill` takes 0
    /// and -1 as the caller's group and everyone, and 1 is init, which nobody here started.
    public static func alive(_ pid: Int32) -> Bool { pid > 1 && kill(pid, 0) == 0 }

    /// Signals the whole process group that `pid` leads (grandchildren included).
    public static func signalGroup(_ pid: Int32, _ signal: Int32) {
        if pid > 1 { kill(-pid, signal) }
    }

    /// Whether any process of the group that `pid` leads is still alive.
    public static func groupAlive(_ pid: Int32) -> Bool { pid > 1 && kill(-pid, 0) == 0 }

    /// Whether a process of the group runs, zombies aside (a scan of /proc). `groupAlive` counts zombies, which
    /// only their parent can remove: for a caller that is not that parent (and cannot reap them), a group of
    /// zombies has ended.
    public static func groupRuns(_ group: Int32) -> Bool {
        guard group > 1, groupAlive(group), let directory = opendir("/proc") else { return false }
        defer { closedir(directory) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard Int32(name) != nil, let stat = ProcessStat.read("/proc/\(name)/stat", buffer: &buffer) else {
                continue
            }
            if stat.processGroup == group && stat.state != "Z" { return true }
        }
        return false
    }

    /// This process's environment (what `ProcessInfo` reports, without linking Foundation for it). Where a
    /// name appears twice, the first entry wins, as getenv does.
    public static func currentEnvironment() -> [String: String] {
        var variables: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "="), variables[String(text[..<equals])] == nil {
                variables[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return variables
    }
}
