import ClusterWire

/// One simulated agent: what it registered with and the token it got back.
struct FleetNode: Sendable {
    let index: Int
    let id: String
    let bootID: String
    let gpus: [GPUReport]
    var token = ""

    static let gpuName = "NVIDIA H100 80GB HBM3"
    static let gpuMemoryMiB = 81_559

    init(index: Int, prefix: String, gpuCount: Int) {
        self.index = index
        id = "\(prefix)-\(String(index + 100_000).dropFirst())"
        bootID = Self.hex(UInt64(index) &* 0x9E37_79B9_7F4A_7C15, digits: 32)
        gpus = (0..<gpuCount).map { gpu in
            let seed = UInt64(index) << 8 | UInt64(gpu)
            return GPUReport(
                index: gpu,
                uuid: "GPU-\(Self.hex(seed &* 0xBF58_476D_1CE4_E5B9, digits: 8))-\(Self.hex(seed, digits: 4))-"
                    + "\(Self.hex(seed &* 0x94D0_49BB_1331_11EB, digits: 12))",
                name: Self.gpuName,
                memoryMib: Self.gpuMemoryMiB,
                memoryUsedMib: 0,
                utilization: 0
            )
        }
    }

    /// What a real agent sends at registration: 8 GPUs, 128 CPUs, 1 TiB, a rack label.
    var registration: RegisterRequest {
        RegisterRequest(
            nodeId: id,
            hostname: id + ".sim.corral",
            bootId: bootID,
            cpus: 128,
            memory: 1 << 40,
            gpus: gpus,
            labels: ["rack": "r\(index % 40)", "simulated": "true"],
            agentVersion: "0.1.0-sim",
            running: []
        )
    }

    /// A heartbeat as a real agent with telemetry would send it: running allocations and every GPU's use.
    func heartbeat(running: [RunningAllocation]) -> HeartbeatRequest {
        let busy = !running.isEmpty
        let telemetry = gpus.map { gpu in
            var report = gpu
            report.memoryUsedMib = busy ? Int.random(in: 20_000...80_000) : Int.random(in: 0...600)
            report.utilization = busy ? Int.random(in: 60...100) : 0
            return report
        }
        return HeartbeatRequest(bootId: bootID, running: running, gpus: telemetry)
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        let padded = String(repeating: "0", count: max(0, 16 - text.count)) + text
        return String(String(repeating: padded, count: 2).suffix(digits))
    }
}
