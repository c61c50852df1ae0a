internal import Glibc

/// One job's cgroups: the directory that holds its processes (v2 where there is one: `cgroup.kill`,
/// `cgroup.events`), and where its memory and CPU limits and counters live (v2, or v1 in the hybrid layout).
/// Codable: the agent records the paths in the job's record, so a supervisor and a later agent use the same.
public struct JobCgroup: Sendable, Hashable, Codable {
    public struct Controller: Sendable, Hashable, Codable {
        public var directory: String
        public var unified: Bool
        public init(directory: String, unified: Bool) {
            self.directory = directory
            self.unified = unified
        }
    }

    /// Holds every process of the job: what "the job has ended" and "kill the job" are about.
    public var tracking: Controller
    public var memory: Controller?
    public var cpu: Controller?
    /// v1 only: CPU time (v2 keeps it in the tracking cgroup's cpu.stat).
    public var cpuacct: String?
    /// v1 only: the devices cgroup, and the rules it denies ("c 195:1 rwm": the node's other GPUs).
    public var devices: String?
    public var deniedDevices: [String]?

    public init(
        tracking: Controller,
        memory: Controller?,
        cpu: Controller?,
        cpuacct: String?,
        devices: String? = nil,
        deniedDevices: [String]? = nil
    ) {
        self.tracking = tracking
        self.memory = memory
        self.cpu = cpu
        self.cpuacct = cpuacct
        self.devices = devices
        self.deniedDevices = deniedDevices
    }

    /// Every directory, once each, the tracking one first.
    public var directories: [String] {
        var seen: [String] = []
        for directory in [tracking.directory, memory?.directory, cpu?.directory, cpuacct, devices].compactMap({ $0 })
        where !seen.contains(directory) {
            seen.append(directory)
        }
        return seen
    }

    /// The files a process writes "0" to, to move itself into every one of the job's cgroups.
    public var procsFiles: [String] { directories.map { $0 + "/cgroup.procs" } }

    /// Makes the directories and sets the limits: `memory` bytes (0: none) and `cpus` whole CPUs (0: none).
    public func create(memory limit: Int64, cpus: Int) throws(POSIXCallError) {
        for directory in directories where mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw POSIXCallError(function: "mkdir \(directory)", errno: errno)
        }
        if let memory, limit > 0 {
            if memory.unified {
                try FileText.write("\(limit)", to: memory.directory + "/memory.max")
                try? FileText.write("0", to: memory.directory + "/memory.swap.max")
            } else {
                try FileText.write("\(limit)", to: memory.directory + "/memory.limit_in_bytes")
                try? FileText.write("\(limit)", to: memory.directory + "/memory.memsw.limit_in_bytes")
            }
        }
        if let devices {
            for rule in deniedDevices ?? [] { try FileText.write(rule, to: devices + "/devices.deny") }
        }
        if let cpu, cpus > 0 {
            let period = 100_000
            if cpu.unified {
                try FileText.write("\(cpus * period) \(period)", to: cpu.directory + "/cpu.max")
            } else {
                try FileText.write("\(period)", to: cpu.directory + "/cpu.cfs_period_us")
                try FileText.write("\(cpus * period)", to: cpu.directory + "/cpu.cfs_quota_us")
            }
        }
    }

    /// The pids in the tracking cgroup (its descendants' included on v2).
    public func pids() -> [Int32] {
        var pids: [Int32] = []
        collect(tracking.directory, into: &pids)
        return pids
    }

    private func collect(_ directory: String, into pids: inout [Int32]) {
        for line in (FileText.read(directory + "/cgroup.procs") ?? "").split(separator: "\n") {
            if let pid = Int32(line) { pids.append(pid) }
        }
        // A job may make cgroups of its own below its own (delegation is not offered, but root jobs can).
        guard let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { collect(directory + "/" + name, into: &pids) }
        }
    }

    /// Whether any process of the job is left (zombies waiting for their parent count on v1 only).
    public func populated() -> Bool {
        if tracking.unified, let events = FileText.read(tracking.directory + "/cgroup.events") {
            return FileText.value("populated", in: events) != 0
        }
        return !pids().isEmpty
    }

    /// Sends `signal` to every process of the job, those that left its process group and session included.
    public func signalAll(_ signal: Int32) {
        for pid in pids() where pid > 1 { Glibc.kill(pid, signal) }
    }

    /// SIGKILL to every process of the job at once (`cgroup.kill`, Linux 5.14+), or one by one before that.
    public func kill() {
        if tracking.unified, (try? FileText.write("1", to: tracking.directory + "/cgroup.kill")) != nil { return }
        signalAll(SIGKILL)
    }

    /// How many times the kernel's OOM killer killed a process of the job at its memory limit.
    public func oomKills() -> Int64 {
        guard let memory else { return 0 }
        let file = memory.unified ? "/memory.events" : "/memory.oom_control"
        return FileText.value("oom_kill", in: FileText.read(memory.directory + file) ?? "") ?? 0
    }

    /// CPU time of every process the job ever had, from the cgroup's own counter.
    public func cpuSeconds() -> Double? {
        if tracking.unified, let stat = FileText.read(tracking.directory + "/cpu.stat"),
            let micro = FileText.value("usage_usec", in: stat)
        {
            return Double(micro) / 1e6
        }
        if let cpuacct, let text = FileText.read(cpuacct + "/cpuacct.usage"), let nano = Int64(text.trimmingNewline) {
            return Double(nano) / 1e9
        }
        return nil
    }

    /// Memory the job uses now and the most it used, from the cgroup's counters.
    public func memoryBytes() -> (current: Int64, peak: Int64?)? {
        guard let memory else { return nil }
        let (current, peak) =
            memory.unified
            ? ("/memory.current", "/memory.peak") : ("/memory.usage_in_bytes", "/memory.max_usage_in_bytes")
        guard let now = FileText.read(memory.directory + current).flatMap({ Int64($0.trimmingNewline) }) else {
            return nil
        }
        return (now, FileText.read(memory.directory + peak).flatMap { Int64($0.trimmingNewline) })
    }

    /// The devices cgroup rule that denies the character or block device at `path` ("c 195:1 rwm"); nil when
    /// it is not a device node.
    public static func denyRule(for path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFCHR || kind == S_IFBLK else { return nil }
        let device = UInt64(info.st_rdev)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        return "\(kind == S_IFCHR ? "c" : "b") \(major):\(minor) rwm"
    }

    /// Removes the directories (each must be empty of processes); what cannot go yet is left for a later try.
    @discardableResult
    public func remove() -> Bool {
        var removed = true
        for directory in directories.reversed() where rmdir(directory) != 0 && errno != ENOENT { removed = false }
        return removed
    }
}

extension String {
    fileprivate var trimmingNewline: String {
        var text = self
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return text
    }
}
