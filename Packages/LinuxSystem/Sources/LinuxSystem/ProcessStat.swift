internal import Glibc

/// One line of `/proc/PID/stat`, the fields we use.
public struct ProcessStat: Sendable, Hashable {
    public var pid: Int32
    public var state: Character
    public var processGroup: Int32
    /// utime + stime + cutime + cstime, in clock ticks.
    public var cpuTicks: Int64
    public var residentPages: Int64
    /// When the process started, in clock ticks since boot: with the pid, it names one process for good.
    public var startTicks: UInt64

    /// Parses `/proc/PID/stat`. The command name (field 2) may hold spaces and parentheses, so fields are
    /// counted from its last `)`. Nil for anything malformed. Takes a `String`, not any `StringProtocol`: a generic
    /// initializer called from another module ran unspecialized, and in each job's supervisor (a fresh fork) it
    /// built its generic metadata and scanned the binary's protocol conformances again (10 % of a supervisor's
    /// CPU in `perf`; docs/PERFORMANCE.md).
    public init?(_ line: String) {
        guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), open < close,
            let pid = Int32(String(line[..<open].filter { !$0.isWhitespace }))
        else { return nil }
        // After ") ": state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8) flags(9) minflt(10) cminflt(11)
        // majflt(12) cmajflt(13) utime(14) stime(15) cutime(16) cstime(17) ... starttime(22) ... rss(24).
        let fields = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 22, let state = fields[0].first, let group = Int32(fields[2]) else { return nil }
        let ticks = fields[11...14].compactMap { Int64($0) }
        guard ticks.count == 4, let pages = Int64(fields[21]), let start = UInt64(fields[19]) else { return nil }
        self.pid = pid
        self.state = state
        self.processGroup = group
        self.cpuTicks = ticks.reduce(0, +)
        self.residentPages = pages
        self.startTicks = start
    }

    /// When process `pid` started (`startTicks`); nil when there is no such process. A pid and its start name one
    /// process for good: a pid read from a file may have gone to another process since.
    public static func startTicks(of pid: Int32) -> UInt64? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        return read("/proc/\(pid)/stat", buffer: &buffer)?.startTicks
    }

    /// Reads and parses one `/proc/PID/stat` file into `buffer` (reused by callers that scan all of /proc).
    public static func read(_ path: String, buffer: inout [UInt8]) -> ProcessStat? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return ProcessStat(String(decoding: buffer[0..<count], as: UTF8.self))
    }
}
