import Dispatch
import Glibc
import LinuxSystem
import Synchronization

/// NVIDIA's management library, loaded with `dlopen` where `libnvidia-ml.so.1` exists (it ships with the
/// driver), so Corral has no link-time dependency on it. It answers what `nvidia-smi --query-gpu` does
/// without starting a process. Every call runs under a hard timeout on a thread of its own: a broken GPU can
/// hang NVML as it hangs nvidia-smi, and a hung call must not hang the agent (after one, this NVML is not
/// used again: its thread is stuck).
public final class NVML: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable (C function pointers into a library that is
    // never closed) but `hung`, a Mutex; NVML itself is thread-safe.

    typealias Init = @convention(c) () -> Int32
    typealias Count = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    typealias HandleByIndex = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias DeviceText = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    typealias DeviceStruct = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer) -> Int32
    typealias DeviceUInt = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32
    typealias Temperature = @convention(c) (OpaquePointer?, UInt32, UnsafeMutablePointer<UInt32>) -> Int32
    typealias EccErrors = @convention(c) (OpaquePointer?, UInt32, UInt32, UnsafeMutablePointer<UInt64>) -> Int32
    typealias MigMode =
        @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>)
        -> Int32
    typealias SystemText = @convention(c) (UnsafeMutablePointer<CChar>, UInt32) -> Int32
    typealias CudaVersion = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias Processes =
        @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>, UnsafeMutableRawPointer?)
        -> Int32

    /// The functions every GPU query needs; the others are optional (older drivers lack some).
    let initialize: Init
    let count: Count
    let handle: HandleByIndex
    let name: DeviceText
    let uuid: DeviceText
    let memory: DeviceStruct
    let index: DeviceUInt?
    let utilization: DeviceStruct?
    let temperature: Temperature?
    let power: DeviceUInt?
    let ecc: EccErrors?
    let migMode: MigMode?
    let pciInfo: DeviceStruct?
    let driverVersion: SystemText?
    let cudaVersion: CudaVersion?
    let processes: Processes?

    public let path: String
    let timeout: Duration
    private let hung = Mutex(false)
    /// nvmlInit once per process: it counts its calls, and each wants an nvmlShutdown.
    private let initialized = Mutex(false)

    /// Loads the library; nil when it is not there or lacks the essential functions (not an error: nodes
    /// without NVIDIA drivers, or with declared GPUs, have none).
    public init?(path: String = "libnvidia-ml.so.1", timeout: Duration = .seconds(10)) {
        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            guard let address = dlsym(library, name) else { return nil }
            return unsafeBitCast(address, to: type)
        }
        guard let initialize = symbol("nvmlInit_v2", as: Init.self),
            let count = symbol("nvmlDeviceGetCount_v2", as: Count.self),
            let handle = symbol("nvmlDeviceGetHandleByIndex_v2", as: HandleByIndex.self),
            let name = symbol("nvmlDeviceGetName", as: DeviceText.self),
            let uuid = symbol("nvmlDeviceGetUUID", as: DeviceText.self),
            let memory = symbol("nvmlDeviceGetMemoryInfo", as: DeviceStruct.self)
        else {
            dlclose(library)
            return nil
        }
        self.initialize = initialize
        self.count = count
        self.handle = handle
        self.name = name
        self.uuid = uuid
        self.memory = memory
        index = symbol("nvmlDeviceGetIndex", as: DeviceUInt.self)
        utilization = symbol("nvmlDeviceGetUtilizationRates", as: DeviceStruct.self)
        temperature = symbol("nvmlDeviceGetTemperature", as: Temperature.self)
        power = symbol("nvmlDeviceGetPowerUsage", as: DeviceUInt.self)
        ecc = symbol("nvmlDeviceGetTotalEccErrors", as: EccErrors.self)
        migMode = symbol("nvmlDeviceGetMigMode", as: MigMode.self)
        pciInfo = symbol("nvmlDeviceGetPciInfo_v3", as: DeviceStruct.self)
        driverVersion = symbol("nvmlSystemGetDriverVersion", as: SystemText.self)
        cudaVersion = symbol("nvmlSystemGetCudaDriverVersion_v2", as: CudaVersion.self)
        processes = symbol("nvmlDeviceGetComputeRunningProcesses_v3", as: Processes.self)
        self.path = path
        self.timeout = timeout
    }

    /// What NVML says about every GPU, and the processes holding GPU memory; throws when NVML fails, hangs
    /// past the timeout, or hung before.
    public func sample() throws(ProbeError) -> (gpus: [GPUInfo], apps: [NvidiaSMI.ComputeApp], cuda: String?) {
        if hung.withLock({ $0 }) { throw ProbeError(.timedOut, "NVML hung earlier; not used again") }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Threads.detach { [self] in
            outcome.value.withLock { $0 = Result { () throws(ProbeError) in try query() } }
            done.signal()
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        guard done.wait(timeout: .now() + seconds) == .success, let result = outcome.value.withLock({ $0 }) else {
            hung.withLock { $0 = true }
            throw ProbeError(.timedOut, "NVML did not answer within \(CommandRunner.describe(timeout))")
        }
        let (gpus, apps, cuda) = try result.get()
        return (gpus, apps, cuda)
    }

    private func query() throws(ProbeError) -> ([GPUInfo], [NvidiaSMI.ComputeApp], String?) {
        if !initialized.withLock({ $0 }) {
            try check(initialize(), "nvmlInit")
            initialized.withLock { $0 = true }
        }
        var total: UInt32 = 0
        try check(count(&total), "nvmlDeviceGetCount")
        let driver = driverVersion.flatMap { function in text { function($0, $1) } }
        var gpus: [GPUInfo] = []
        var apps: [NvidiaSMI.ComputeApp] = []
        for position in 0..<min(total, 1024) {
            var device: OpaquePointer?
            try check(handle(position, &device), "nvmlDeviceGetHandleByIndex")
            guard let uuid = text({ self.uuid(device, $0, $1) }), let name = text({ self.name(device, $0, $1) })
            else { throw ProbeError(.parse, "NVML gave GPU \(position) no name or uuid") }
            var gpu = GPUInfo(index: Int(position), uuid: uuid, name: name, driverVersion: driver)
            if let index, let value = unsigned({ index(device, $0) }) { gpu.index = Int(value) }
            var bytes = (UInt64(0), UInt64(0), UInt64(0))  // nvmlMemory_t: total, free, used
            if memory(device, &bytes) == 0 {
                gpu.memoryTotalMiB = Int(bytes.0 >> 20)
                gpu.memoryUsedMiB = Int(bytes.2 >> 20)
            }
            var rates = (UInt32(0), UInt32(0))  // nvmlUtilization_t: gpu, memory (percent)
            if let utilization, utilization(device, &rates) == 0 { gpu.utilizationPercent = Int(rates.0) }
            if let temperature, let value = unsigned({ temperature(device, 0, $0) }) { gpu.temperatureC = Int(value) }
            if let power, let milliwatts = unsigned({ power(device, $0) }) {
                gpu.powerDrawW = Double(milliwatts) / 1000
            }
            var errors: UInt64 = 0
            // NVML_MEMORY_ERROR_TYPE_UNCORRECTED (1), NVML_VOLATILE_ECC (0): what nvidia-smi's field reports.
            if let ecc, ecc(device, 1, 0, &errors) == 0 { gpu.eccErrorsUncorrected = Int(clamping: errors) }
            var current: UInt32 = 0
            var pending: UInt32 = 0
            if let migMode, migMode(device, &current, &pending) == 0 {
                gpu.migMode = current == 1 ? "Enabled" : "Disabled"
            }
            gpu.pciBusID = pciBusID(device)
            gpus.append(gpu)
            apps += runningProcesses(device, uuid: uuid)
        }
        var version: Int32 = 0
        let cuda = cudaVersion.flatMap { $0(&version) == 0 ? "\(version / 1000).\(version % 1000 / 10)" : nil }
        return (gpus, apps, cuda)
    }

    /// nvmlPciInfo_t: busIdLegacy[16], domain, bus, device, pciDeviceId, pciSubSystemId (5 x uint32), busId[32].
    private func pciBusID(_ device: OpaquePointer?) -> String? {
        guard let pciInfo else { return nil }
        var raw = [UInt8](repeating: 0, count: 68)
        guard raw.withUnsafeMutableBytes({ pciInfo(device, $0.baseAddress!) }) == 0 else { return nil }
        let busID = String(decoding: raw[36..<68].prefix { $0 != 0 }, as: UTF8.self)
        return busID.isEmpty ? nil : busID
    }

    /// nvmlProcessInfo_t (v3): pid (uint32, then 4 bytes of padding), usedGpuMemory (uint64, bytes),
    /// gpuInstanceId, computeInstanceId (uint32 each): 24 bytes.
    private func runningProcesses(_ device: OpaquePointer?, uuid: String) -> [NvidiaSMI.ComputeApp] {
        guard let processes else { return [] }
        var count: UInt32 = 64
        var raw = [UInt8](repeating: 0, count: 24 * 64)
        guard raw.withUnsafeMutableBytes({ processes(device, &count, $0.baseAddress) }) == 0 else { return [] }
        return (0..<Int(min(count, 64))).compactMap { entry in
            let base = entry * 24
            let pid = raw[base..<base + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
            let used = raw[base + 8..<base + 16].enumerated().reduce(UInt64(0)) {
                $0 | UInt64($1.element) << (8 * UInt64($1.offset))
            }
            guard pid > 0, pid <= UInt32(Int32.max) else { return nil }
            // NVML_VALUE_NOT_AVAILABLE is all ones: the memory is unknown, as `[N/A]` from nvidia-smi.
            return NvidiaSMI.ComputeApp(
                pid: Int32(pid),
                gpuUUID: uuid,
                usedMemoryMiB: used == UInt64.max ? nil : Int(used >> 20)
            )
        }
    }

    private func check(_ status: Int32, _ call: String) throws(ProbeError) {
        guard status == 0 else { throw ProbeError(.commandFailed, "\(call) failed with NVML error \(status)") }
    }

    private func text(_ call: (UnsafeMutablePointer<CChar>, UInt32) -> Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard call(&buffer, UInt32(buffer.count - 1)) == 0 else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? nil : text
    }

    private func unsigned(_ call: (UnsafeMutablePointer<UInt32>) -> Int32) -> UInt32? {
        var value: UInt32 = 0
        return call(&value) == 0 ? value : nil
    }
}

/// The answer handed from the NVML thread to the waiting one.
private final class Outcome: Sendable {
    let value = Mutex<Result<([GPUInfo], [NvidiaSMI.ComputeApp], String?), ProbeError>?>(nil)
}
