import Glibc

/// What the processes of one process group (a job) use right now.
public struct GroupUsage: Sendable, Hashable {
    /// User + system CPU time of the live processes, plus what their reaped children used.
    public var cpuSeconds: Double = 0
    /// Resident memory of the live processes.
    public var residentBytes: Int64 = 0
    public var processes: Int = 0
    /// The live processes (for matching `nvidia-smi --query-compute-apps` pids to jobs).
    public var pids: [Int32] = []

    public init() {}
}

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
    /// counted from its last `)`. Nil for anything malformed.
    public init?(_ line: some StringProtocol) {
        guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), open < close,
            let pid = Int32(line[..<open].trimmingSpaces())
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
}

/// Samples the usage of process groups from `/proc` in one pass over it, however many groups are asked for.
public enum ProcessSampler {
    public static func sample(groups: Set<Int32>, root: String = "/") -> [Int32: GroupUsage] {
        guard !groups.isEmpty else { return [:] }
        let proc = (root.hasSuffix("/") ? root : root + "/") + "proc"
        guard let directory = opendir(proc) else { return [:] }
        defer { closedir(directory) }
        let ticksPerSecond = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let pageSize = Int64(max(1, sysconf(Int32(_SC_PAGESIZE))))
        var usage: [Int32: GroupUsage] = [:]
        var buffer = [UInt8](repeating: 0, count: 1024)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let first = name.utf8.first, first >= 0x30 && first <= 0x39,
                let stat = readStat("\(proc)/\(name)/stat", &buffer),
                groups.contains(stat.processGroup), stat.state != "Z"
            else { continue }
            var group = usage[stat.processGroup] ?? GroupUsage()
            group.cpuSeconds += Double(stat.cpuTicks) / ticksPerSecond
            group.residentBytes += stat.residentPages * pageSize
            group.processes += 1
            group.pids.append(stat.pid)
            usage[stat.processGroup] = group
        }
        return usage
    }

    private static func readStat(_ path: String, _ buffer: inout [UInt8]) -> ProcessStat? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return ProcessStat(String(decoding: buffer[0..<count], as: UTF8.self))
    }
}
