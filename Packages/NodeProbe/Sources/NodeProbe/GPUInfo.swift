/// One GPU as the node reports it (through `nvidia-smi`) or as the operator declared it.
///
/// Every field but `index`, `uuid` and `name` is optional: consumer cards, MIG instances and broken
/// drivers answer `[N/A]`, `[Not Supported]` or `ERR!` for some of them, and a declared GPU knows
/// only what `agent.toml` says.
public struct GPUInfo: Sendable, Hashable {
    /// The index `nvidia-smi` and `CUDA_VISIBLE_DEVICES` use (declared GPUs: 0..<count).
    public var index: Int
    /// `GPU-xxxxxxxx-...` for detected GPUs, `DECLARED-<index>` for declared ones.
    public var uuid: String
    public var name: String
    /// `00000000:00:06.0`.
    public var pciBusID: String?
    public var memoryTotalMiB: Int?
    public var memoryUsedMiB: Int?
    public var utilizationPercent: Int?
    public var temperatureC: Int?
    public var powerDrawW: Double?
    /// `ecc.errors.uncorrected.volatile.total`: uncorrected ECC errors since the last driver reload.
    public var eccErrorsUncorrected: Int?
    /// `mig.mode.current`: "Enabled" or "Disabled"; nil where MIG is not supported.
    public var migMode: String?
    public var driverVersion: String?

    public init(
        index: Int,
        uuid: String,
        name: String,
        pciBusID: String? = nil,
        memoryTotalMiB: Int? = nil,
        memoryUsedMiB: Int? = nil,
        utilizationPercent: Int? = nil,
        temperatureC: Int? = nil,
        powerDrawW: Double? = nil,
        eccErrorsUncorrected: Int? = nil,
        migMode: String? = nil,
        driverVersion: String? = nil
    ) {
        self.index = index
        self.uuid = uuid
        self.name = name
        self.pciBusID = pciBusID
        self.memoryTotalMiB = memoryTotalMiB
        self.memoryUsedMiB = memoryUsedMiB
        self.utilizationPercent = utilizationPercent
        self.temperatureC = temperatureC
        self.powerDrawW = powerDrawW
        self.eccErrorsUncorrected = eccErrorsUncorrected
        self.migMode = migMode
        self.driverVersion = driverVersion
    }

    /// False when the GPU reports uncorrected ECC errors: NVIDIA's guidance is to drain the GPU and
    /// reset it (or reboot) before it runs work again. An unknown count (`[N/A]`) counts as healthy.
    public var isHealthy: Bool {
        unhealthyReason == nil
    }

    /// Why `isHealthy` is false, in words an operator can act on; nil when healthy.
    public var unhealthyReason: String? {
        if let ecc = eccErrorsUncorrected, ecc > 0 {
            return "\(ecc) uncorrected ECC error\(ecc == 1 ? "" : "s") (volatile); drain the node and reset the GPU"
        }
        return nil
    }
}

/// GPUs declared in `agent.toml` for nodes where detection is not possible, as Slurm's `gres.conf` does.
public struct DeclaredGPUs: Sendable, Hashable {
    public var count: Int
    public var name: String?
    public var memoryMiB: Int?

    public init(count: Int, name: String? = nil, memoryMiB: Int? = nil) {
        self.count = count
        self.name = name
        self.memoryMiB = memoryMiB
    }

    /// The GPUs this declaration stands for: indices `0..<count`, uuids `DECLARED-<index>`.
    public var gpus: [GPUInfo] {
        (0..<max(0, count)).map { index in
            GPUInfo(index: index, uuid: "DECLARED-\(index)", name: name ?? "GPU", memoryTotalMiB: memoryMiB)
        }
    }
}
