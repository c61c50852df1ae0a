import ClusterWire
import Glibc
import LinuxSystem
import NodeProbe

/// What the node's jobs and GPUs use, measured on a cadence of its own so that a GPU query hanging up to its
/// timeout never delays a heartbeat (which would let the controller judge the node lost): heartbeats send the
/// latest figures. Each sample reads a contained job's cgroup counters (CPU time, memory now and at its peak),
/// and makes one pass over /proc for the process groups of jobs without a cgroup (and for the pids that GPU
/// memory is counted by); where the GPUs were detected rather than declared, NVML or nvidia-smi for the GPUs
/// and the processes on them.
actor UsageSampler {
    /// Measures the GPUs again for each sample; nil where they were declared rather than detected.
    let gpuProber: NodeProber?
    /// The GPUs as last measured; nil when that measurement failed (or none is taken: declared GPUs).
    private(set) var latestGPUs: [GPUReport]?
    /// The process group of each allocation being sampled (container jobs are not: their group is only the
    /// docker client, whose figures would say nothing of the job).
    private var groups: [String: pid_t] = [:]
    /// The cgroup of each contained allocation: its counters are the job's figures.
    private var cgroups: [String: JobCgroup] = [:]
    /// The latest sample of each allocation (peaks carried from sample to sample).
    private(set) var usage: [String: UsageReport] = [:]

    init(gpuProber: NodeProber?, initialGPUs: [GPUReport]?) {
        self.gpuProber = gpuProber
        latestGPUs = initialGPUs
    }

    /// The GPU query failed or hung at its last try (only where the GPUs are measured at all).
    var gpuQueryFailed: Bool { gpuProber != nil && latestGPUs == nil }

    func watch(_ allocation: String, group: pid_t, cgroup: JobCgroup? = nil) {
        groups[allocation] = group
        cgroups[allocation] = cgroup
    }

    /// Stops sampling the allocation (its job ended); its last sample stays until `forget`.
    func unwatch(_ allocation: String) {
        groups[allocation] = nil
        cgroups[allocation] = nil
    }

    func forget(_ allocation: String) {
        groups[allocation] = nil
        cgroups[allocation] = nil
        usage[allocation] = nil
    }

    /// Samples every `interval()` until cancelled. The start-up probe has just measured: the first sample
    /// comes one interval later.
    func run(interval: @Sendable () async -> Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: await interval())
            await sample()
        }
    }

    /// One sample: blocking work, on a thread of its own.
    func sample() async {
        let watched = groups
        let contained = cgroups
        let prober = gpuProber
        let wanted = Set(watched.values)
        let (processes, counters, gpus) = await Threads.run {
            (
                ProcessSampler.sample(groups: wanted),
                contained.mapValues { ($0.cpuSeconds(), $0.memoryBytes()) },
                prober?.sampleGPUs()
            )
        }
        var gpuMemory: [pid_t: Int] = [:]
        for app in gpus?.apps ?? [] { gpuMemory[app.pid, default: 0] += app.usedMemoryMiB ?? 0 }
        for (allocation, group) in watched {
            // The job may have ended (and been unwatched) while the sample was taken.
            guard let sample = processes[group], groups[allocation] == group else { continue }
            let onGPU = sample.pids.compactMap { gpuMemory[$0] }
            let counted = counters[allocation]
            let memory = counted?.1?.current ?? sample.residentBytes
            usage[allocation] = UsageReport(
                cpuSeconds: counted?.0 ?? sample.cpuSeconds,
                memory: memory,
                peakMemory: max(usage[allocation]?.peakMemory ?? 0, counted?.1?.peak ?? memory),
                gpuMemoryMib: onGPU.isEmpty ? (gpus == nil ? nil : 0) : onGPU.reduce(0, +)
            )
        }
        if prober != nil { latestGPUs = gpus.map { GPUReports.from($0.gpus) } }
    }
}

/// NodeProbe's GPUs as the wire reports them (registration and heartbeats).
enum GPUReports {
    static func from(_ gpus: [GPUInfo]) -> [GPUReport] {
        gpus.map {
            GPUReport(
                index: $0.index,
                uuid: $0.uuid,
                name: $0.name,
                memoryMib: $0.memoryTotalMiB,
                memoryUsedMib: $0.memoryUsedMiB,
                utilization: $0.utilizationPercent,
                healthy: $0.isHealthy
            )
        }
    }
}
