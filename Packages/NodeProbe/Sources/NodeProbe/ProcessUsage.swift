import Glibc
import LinuxSystem

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
                let stat = ProcessStat.read("\(proc)/\(name)/stat", buffer: &buffer),
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

}
