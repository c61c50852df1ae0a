import Glibc
import LinuxSystem

/// What a node offers to jobs: the answer of `NodeProber.probe`.
public struct NodeInventory: Sendable, Hashable {
    public var hostname: String
    /// Usable CPUs: the smallest of online CPUs, the cpuset and the cgroup CPU quota (rounded down, at least 1).
    public var cpus: Int
    /// Usable memory: the smaller of `MemTotal` and the cgroup memory limit.
    public var memoryBytes: Int64
    public var gpus: [GPUInfo]
    /// `"nvidia-smi"`, `"declared"` or `"none"`.
    public var gpuSource: String
    public var driverVersion: String?
    /// The CUDA version the driver supports (`CUDA Version` in `nvidia-smi`'s header).
    public var cudaVersion: String?
    /// `nvidia-smi topo -m`: `gpuTopology[a][b]` is how GPUs a and b are connected (see `GPUTopology`).
    public var gpuTopology: [[String]]?
    /// `/proc/sys/kernel/random/boot_id`: changes on every reboot, so the controller can tell a rebooted
    /// node (whose jobs are gone) from one that only lost its network.
    public var bootID: String?
    /// Things an operator should know, in words: "nvidia-smi timed out after 10s", "GPU 3 ...".
    public var warnings: [String]
    /// Set when GPU detection was attempted and failed (timed out, crashed, printed garbage). A node with
    /// this set should report itself unhealthy rather than take GPU work: a hung `nvidia-smi` usually
    /// means a broken GPU or driver. Not set when `nvidia-smi` is simply not installed.
    public var gpuProbeError: ProbeError?

    public init(
        hostname: String,
        cpus: Int,
        memoryBytes: Int64,
        gpus: [GPUInfo] = [],
        gpuSource: String = "none",
        driverVersion: String? = nil,
        bootID: String? = nil,
        warnings: [String] = [],
        gpuProbeError: ProbeError? = nil
    ) {
        self.hostname = hostname
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.gpuSource = gpuSource
        self.driverVersion = driverVersion
        self.bootID = bootID
        self.warnings = warnings
        self.gpuProbeError = gpuProbeError
    }

    /// False when a GPU reports itself unhealthy or GPU detection failed.
    public var gpusHealthy: Bool {
        gpuProbeError == nil && gpus.allSatisfy(\.isHealthy)
    }
}

/// Finds out what this node has. All file paths are under `root` so tests can point it at fixture trees.
public struct NodeProber: Sendable {
    public var root: String
    public var nvidiaSMI: String
    public var timeout: Duration
    /// NVIDIA's library, when loaded: asked first, with nvidia-smi as the fallback.
    public var nvml: NVML?

    /// - Parameters:
    ///   - root: the file system root to read `proc/` and `sys/` under (`"/"` on a real node).
    ///   - nvidiaSMI: the `nvidia-smi` executable, looked up on `PATH` unless it contains a slash.
    ///   - timeout: hard limit for one `nvidia-smi` run.
    ///   - nvml: NVML loaded with `NVML(path:)`; nil: nvidia-smi only.
    public init(
        root: String = "/",
        nvidiaSMI: String = "nvidia-smi",
        timeout: Duration = .seconds(10),
        nvml: NVML? = nil
    ) {
        self.root = root.hasSuffix("/") ? root : root + "/"
        self.nvidiaSMI = nvidiaSMI
        self.timeout = timeout
        self.nvml = nvml
    }

    /// Probes GPUs, CPUs and memory. Never throws and never hangs past `timeout` (plus a little): whatever
    /// fails becomes a warning.
    ///
    /// Declared GPUs replace detection (nvidia-smi is not run). Otherwise nvidia-smi is run; when it is
    /// missing, fails, hangs or prints garbage, the node has no GPUs and a warning says why.
    /// `cpusOverride` and `memoryOverride` (when positive) replace what was detected.
    public func probe(
        declaredGPUs: DeclaredGPUs? = nil,
        cpusOverride: Int? = nil,
        memoryOverride: Int64? = nil
    ) -> NodeInventory {
        var inventory = NodeInventory(
            hostname: Self.hostname(),
            cpus: 1,
            memoryBytes: 0,
            bootID: Self.bootID(root: root)
        )
        probeGPUs(into: &inventory, declared: declaredGPUs)

        let limits = cgroupLimits()
        if let cpusOverride, cpusOverride > 0 {
            inventory.cpus = cpusOverride
        } else {
            inventory.cpus = usableCPUs(limits: limits)
        }
        if let memoryOverride, memoryOverride > 0 {
            inventory.memoryBytes = memoryOverride
        } else {
            inventory.memoryBytes = usableMemory(limits: limits, warnings: &inventory.warnings)
        }
        return inventory
    }

    /// GPUs and the processes using them, measured again (for heartbeats): nil when nvidia-smi cannot say.
    /// Runs nvidia-smi twice, each under the hard timeout; blocking, so call it off the async pool.
    public func sampleGPUs() -> (gpus: [GPUInfo], apps: [NvidiaSMI.ComputeApp])? {
        if let sample = try? nvml?.sample(), !sample.gpus.isEmpty { return (sample.gpus, sample.apps) }
        guard let result = try? CommandRunner.run(nvidiaSMI, NvidiaSMI.queryArguments, timeout: timeout),
            result.status == 0, let gpus = try? NvidiaSMI.parseQueryGPU(result.stdout), !gpus.isEmpty
        else { return nil }
        var apps: [NvidiaSMI.ComputeApp] = []
        if let listed = try? CommandRunner.run(nvidiaSMI, NvidiaSMI.computeAppsArguments, timeout: timeout),
            listed.status == 0
        {
            apps = (try? NvidiaSMI.parseComputeApps(listed.stdout)) ?? []
        }
        return (gpus, apps)
    }

    /// This host's name (`gethostname`), or `"localhost"` if it has none.
    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// `/proc/sys/kernel/random/boot_id`, trimmed; nil when unreadable or empty.
    public static func bootID(root: String = "/") -> String? {
        let base = root.hasSuffix("/") ? root : root + "/"
        guard let text = FileReader.read(base + "proc/sys/kernel/random/boot_id") else { return nil }
        let trimmed = text.trimmingSpaces()
        return trimmed.isEmpty ? nil : trimmed
    }

    // MARK: - GPUs

    private func probeGPUs(into inventory: inout NodeInventory, declared: DeclaredGPUs?) {
        if let declared {
            if declared.count < 0 {
                inventory.warnings.append("declared GPU count \(declared.count) is negative; using 0")
            }
            inventory.gpus = declared.gpus
            inventory.gpuSource = "declared"
            return
        }
        if let nvml {
            do {
                let sample = try nvml.sample()
                if !sample.gpus.isEmpty {
                    accept(sample.gpus, source: "nvml", into: &inventory)
                    inventory.cudaVersion = sample.cuda
                    return
                }
                inventory.warnings.append("NVML (\(nvml.path)) lists no GPUs; asking nvidia-smi")
            } catch {
                inventory.warnings.append("NVML (\(nvml.path)) failed: \(error.message); asking nvidia-smi")
            }
        }
        let result: CommandResult
        do {
            result = try CommandRunner.run(nvidiaSMI, NvidiaSMI.queryArguments, timeout: timeout)
        } catch {
            if error.code == .commandNotFound {
                inventory.warnings.append(
                    "nvidia-smi not found (\(nvidiaSMI)): no GPUs detected; "
                        + "declare them in agent.toml if this node has GPUs"
                )
            } else if error.code == .timedOut {
                inventory.warnings.append("nvidia-smi timed out after \(CommandRunner.describe(timeout))")
                inventory.gpuProbeError = ProbeError(error)
            } else {
                inventory.warnings.append("nvidia-smi could not run: \(error.message)")
                inventory.gpuProbeError = ProbeError(error)
            }
            return
        }
        guard result.status == 0 else {
            let detail = firstLine(result.stderr) ?? firstLine(result.stdout) ?? "no output"
            let error = ProbeError(.commandFailed, "nvidia-smi exited with status \(result.status): \(detail)")
            inventory.warnings.append(error.message)
            inventory.gpuProbeError = error
            return
        }
        let gpus: [GPUInfo]
        do {
            gpus = try NvidiaSMI.parseQueryGPU(result.stdout)
        } catch {
            inventory.warnings.append(error.message)
            inventory.gpuProbeError = error
            return
        }
        if gpus.isEmpty {
            inventory.warnings.append("nvidia-smi ran but listed no GPUs")
            return
        }
        accept(gpus, source: "nvidia-smi", into: &inventory)
        // Best effort, under the same hard timeout: a node is usable without it.
        if let summary = try? CommandRunner.run(nvidiaSMI, [], timeout: timeout), summary.status == 0 {
            inventory.cudaVersion = NvidiaSMI.cudaVersion(summary.stdout)
        }
    }

    private func accept(_ gpus: [GPUInfo], source: String, into inventory: inout NodeInventory) {
        inventory.gpus = gpus
        inventory.gpuSource = source
        inventory.driverVersion = gpus.lazy.compactMap(\.driverVersion).first
        // NVML and the query say nothing of how GPUs connect: `topo -m` does (best effort, same timeout).
        if let topology = try? CommandRunner.run(nvidiaSMI, GPUTopology.arguments, timeout: timeout),
            topology.status == 0, let links = GPUTopology.parse(topology.stdout), links.count == gpus.count
        {
            inventory.gpuTopology = links
        }
        for gpu in gpus {
            if let reason = gpu.unhealthyReason {
                inventory.warnings.append("GPU \(gpu.index) (\(gpu.uuid)) is unhealthy: \(reason)")
            }
        }
    }

    private func firstLine(_ text: String) -> String? {
        let line = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingSpaces() } ?? ""
        return line.isEmpty ? nil : NvidiaSMI.excerpt(line)
    }

    // MARK: - CPUs and memory

    struct CgroupLimits {
        var cpuQuota: Double?
        var cpusetCount: Int?
        var memoryBytes: Int64?
    }

    func cgroupLimits() -> CgroupLimits {
        let cgroupRoot = root + "sys/fs/cgroup"
        if FileReader.exists(cgroupRoot + "/cgroup.controllers") {
            return cgroupV2Limits(cgroupRoot: cgroupRoot)
        }
        if FileReader.exists(cgroupRoot + "/memory/memory.limit_in_bytes")
            || FileReader.exists(cgroupRoot + "/cpu/cpu.cfs_quota_us")
        {
            return cgroupV1Limits(cgroupRoot: cgroupRoot)
        }
        return CgroupLimits()
    }

    /// Walks from this process's cgroup (from `proc/self/cgroup`, `0::/path`) up to the cgroup root: a
    /// limit on any ancestor applies, so the smallest wins. When the path does not exist under the mount
    /// (a cgroup namespace shows `/`), only the root is read.
    private func cgroupV2Limits(cgroupRoot: String) -> CgroupLimits {
        var relative = ""
        if let text = FileReader.read(root + "proc/self/cgroup") {
            for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("0::") {
                relative = String(line.dropFirst(3)).trimmingSpaces()
            }
        }
        var components = relative.split(separator: "/").map(String.init).filter { $0 != "." && $0 != ".." }
        while !components.isEmpty && !FileReader.exists(cgroupRoot + "/" + components.joined(separator: "/")) {
            components.removeLast()
        }
        var limits = CgroupLimits()
        while true {
            let directory = ([cgroupRoot] + components).joined(separator: "/")
            if let quota = FileReader.read(directory + "/cpu.max").flatMap(SystemResources.parseCgroupV2CPUMax) {
                limits.cpuQuota = min(limits.cpuQuota ?? quota, quota)
            }
            if let memory = FileReader.read(directory + "/memory.max").flatMap(
                SystemResources.parseCgroupV2MemoryMax
            ) {
                limits.memoryBytes = min(limits.memoryBytes ?? memory, memory)
            }
            if limits.cpusetCount == nil {
                limits.cpusetCount = FileReader.read(directory + "/cpuset.cpus.effective").flatMap(
                    SystemResources.parseCPUList
                )
            }
            if components.isEmpty { break }
            components.removeLast()
        }
        return limits
    }

    /// cgroup v1: the hierarchies are mounted per controller; inside a container the mount root is the
    /// container's own cgroup, which is what is read here.
    private func cgroupV1Limits(cgroupRoot: String) -> CgroupLimits {
        var limits = CgroupLimits()
        for cpuDirectory in ["/cpu", "/cpu,cpuacct"] {
            if let quota = FileReader.read(cgroupRoot + cpuDirectory + "/cpu.cfs_quota_us"),
                let period = FileReader.read(cgroupRoot + cpuDirectory + "/cpu.cfs_period_us")
            {
                limits.cpuQuota = SystemResources.parseCgroupV1CPU(quota: quota, period: period)
                break
            }
        }
        limits.memoryBytes = FileReader.read(cgroupRoot + "/memory/memory.limit_in_bytes").flatMap(
            SystemResources.parseCgroupV1MemoryLimit
        )
        for file in ["/cpuset/cpuset.effective_cpus", "/cpuset/cpuset.cpus"] {
            if let count = FileReader.read(cgroupRoot + file).flatMap(SystemResources.parseCPUList) {
                limits.cpusetCount = count
                break
            }
        }
        return limits
    }

    /// Online CPUs come from `sys/devices/system/cpu/online` under `root` when present (what glibc's
    /// `sysconf(_SC_NPROCESSORS_ONLN)` reads too), else from `sysconf`.
    func usableCPUs(limits: CgroupLimits) -> Int {
        let online =
            FileReader.read(root + "sys/devices/system/cpu/online").flatMap(SystemResources.parseCPUList)
            ?? max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1)
        var cpus = online
        if let cpuset = limits.cpusetCount { cpus = min(cpus, cpuset) }
        if let quota = limits.cpuQuota, quota.isFinite { cpus = min(cpus, max(Int(quota.rounded(.down)), 1)) }
        return max(cpus, 1)
    }

    private func usableMemory(limits: CgroupLimits, warnings: inout [String]) -> Int64 {
        var total = FileReader.read(root + "proc/meminfo").flatMap(SystemResources.parseMeminfoTotalBytes)
        if total == nil && root == "/" {
            let pages = Int64(sysconf(Int32(_SC_PHYS_PAGES)))
            let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
            if pages > 0 && pageSize > 0 { total = pages.multipliedReportingOverflow(by: pageSize).partialValue }
        }
        switch (total, limits.memoryBytes) {
        case (let total?, let limit?):
            return min(total, limit)
        case (let total?, nil):
            return total
        case (nil, let limit?):
            return limit
        case (nil, nil):
            warnings.append("cannot read MemTotal from \(root)proc/meminfo; memory reported as 0")
            return 0
        }
    }
}

/// Small, bounded file reads with Glibc (works on `/proc` files, which report a size of 0).
enum FileReader {
    static let limit = 1 << 20

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while bytes.count < limit {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: buffer[0..<min(count, limit - bytes.count)])
            } else if count == -1 && errno == EINTR {
                continue
            } else if count == 0 {
                break
            } else {
                return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
