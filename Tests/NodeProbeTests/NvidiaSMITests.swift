import Testing

@testable import NodeProbe

@Suite("nvidia-smi --query-gpu parsing")
struct NvidiaSMITests {
    @Test("the query fields keep the order the real H100 fixture was recorded with")
    func queryFieldsAndArguments() {
        #expect(
            NvidiaSMI.queryFields == [
                "index", "uuid", "name", "pci.bus_id", "memory.total", "memory.used", "utilization.gpu",
                "temperature.gpu", "power.draw", "ecc.errors.uncorrected.volatile.total", "mig.mode.current",
                "driver_version",
            ]
        )
        #expect(
            NvidiaSMI.queryArguments == [
                "--query-gpu=index,uuid,name,pci.bus_id,memory.total,memory.used,utilization.gpu,temperature.gpu,"
                    + "power.draw,ecc.errors.uncorrected.volatile.total,mig.mode.current,driver_version",
                "--format=csv,noheader,nounits",
            ]
        )
    }

    static let realH100 = GPUInfo(
        index: 0,
        uuid: "GPU-f9ddd33c-f036-88f2-ac7d-8d315a4560b7",
        name: "NVIDIA H100 80GB HBM3",
        pciBusID: "00000000:00:06.0",
        memoryTotalMiB: 81559,
        memoryUsedMiB: 0,
        utilizationPercent: 0,
        temperatureC: 39,
        powerDrawW: 123.30,
        eccErrorsUncorrected: 0,
        migMode: "Disabled",
        driverVersion: "580.159.04"
    )

    @Test("recorded: the real H100")
    func realH100() throws {
        let gpus = try NvidiaSMI.parseQueryGPU(Fixture.text("h100-real/query-gpu.csv"))
        #expect(gpus == [Self.realH100])
        #expect(gpus[0].isHealthy)
    }

    @Test("recorded: the real H100 with a header line and units (--format=csv)")
    func realH100WithHeaderAndUnits() throws {
        let gpus = try NvidiaSMI.parseQueryGPU(Fixture.text("h100-real/query-gpu-header.csv"))
        var expected = Self.realH100
        expected.powerDrawW = 121.22
        #expect(gpus == [expected])
    }

    @Test("recorded: a wider field list is a clear parse error, not a misread")
    func realWideQueryIsRejected() throws {
        let text = try Fixture.text("h100-real/query-gpu-wide.csv")
        let error = #expect(throws: ProbeError.self) { try NvidiaSMI.parseQueryGPU(text) }
        #expect(error?.code == .parse)
        #expect(error?.message.contains("line 1") == true)
        #expect(error?.message.contains("expected 12 comma-separated fields, got 20") == true)
    }

    @Test("recorded: other nvidia-smi outputs are not mistaken for a GPU list")
    func otherRecordedOutputsAreRejected() throws {
        for name in ["h100-real/nvidia-smi-L.txt", "h100-real/nvidia-smi.txt"] {
            let text = try Fixture.text(name)
            #expect(throws: ProbeError.self) { try NvidiaSMI.parseQueryGPU(text) }
        }
        #expect(try NvidiaSMI.parseQueryGPU(Fixture.text("h100-real/compute-apps.csv")).isEmpty)
    }

    @Test("constructed: 8x H100 SXM")
    func eightH100() throws {
        let gpus = try NvidiaSMI.parseQueryGPU(Fixture.text("constructed/8x-h100-sxm.csv"))
        #expect(gpus.map(\.index) == Array(0..<8))
        #expect(Set(gpus.map(\.uuid)).count == 8)
        #expect(Set(gpus.compactMap(\.pciBusID)).count == 8)
        #expect(gpus.allSatisfy { $0.name == "NVIDIA H100 80GB HBM3" && $0.memoryTotalMiB == 81559 })
        #expect(gpus.allSatisfy { $0.isHealthy && $0.migMode == "Disabled" && $0.driverVersion == "580.159.04" })
        #expect(gpus[0].memoryUsedMiB == 74213)
        #expect(gpus[0].utilizationPercent == 98)
        #expect(gpus[3].pciBusID == "00000000:5D:00.0")
        #expect(gpus[7].uuid == "GPU-3a1c5e02-8d4f-4b7a-9e21-0c6f5d8a1b08")
        #expect(gpus[7].powerDrawW == 69.97)
        #expect(gpus[7].temperatureC == 36)
    }

    @Test("constructed: a consumer card with [N/A] and [Not Supported] fields")
    func consumerCard() throws {
        let gpus = try NvidiaSMI.parseQueryGPU(Fixture.text("constructed/rtx-4090.csv"))
        #expect(gpus.count == 1)
        let gpu = try #require(gpus.first)
        #expect(gpu.name == "NVIDIA GeForce RTX 4090")
        #expect(gpu.memoryTotalMiB == 24564)
        #expect(gpu.memoryUsedMiB == 1873)
        #expect(gpu.powerDrawW == nil)
        #expect(gpu.eccErrorsUncorrected == nil)
        #expect(gpu.migMode == nil)
        #expect(gpu.driverVersion == "550.127.05")
        #expect(gpu.isHealthy)
    }

    @Test("constructed: MIG-enabled A100")
    func migA100() throws {
        let gpus = try NvidiaSMI.parseQueryGPU(Fixture.text("constructed/a100-mig.csv"))
        #expect(gpus.map(\.migMode) == ["Enabled", "Disabled"])
        #expect(gpus[0].utilizationPercent == nil)
        #expect(gpus[1].utilizationPercent == 0)
        #expect(gpus.allSatisfy { $0.name == "NVIDIA A100-SXM4-80GB" && $0.memoryTotalMiB == 81920 })
    }

    @Test("constructed: a GPU with uncorrected ECC errors is unhealthy")
    func eccErrors() throws {
        let gpus = try NvidiaSMI.parseQueryGPU(Fixture.text("constructed/ecc-errors.csv"))
        #expect(gpus.count == 2)
        #expect(gpus[0].isHealthy)
        #expect(!gpus[1].isHealthy)
        #expect(gpus[1].eccErrorsUncorrected == 3)
        #expect(gpus[1].unhealthyReason?.contains("3 uncorrected ECC errors") == true)
        #expect(gpus[1].temperatureC == nil)  // ERR!
        #expect(gpus[1].powerDrawW == nil)  // [Unknown Error]
    }

    @Test(
        "constructed: garbage and partial output are parse errors naming the line",
        arguments: [
            ("constructed/garbage-partial.csv", "line 2"),
            ("constructed/garbage-driver-failure.txt", "line 1"),
            ("constructed/extra-columns.csv", "got 13"),
        ]
    )
    func garbage(file: String, mention: String) throws {
        let text = try Fixture.text(file)
        let error = #expect(throws: ProbeError.self) { try NvidiaSMI.parseQueryGPU(text) }
        #expect(error?.code == .parse)
        #expect(error?.message.contains(mention) == true, "\(error?.message ?? "")")
    }

    @Test("constructed: spaces, CRLF and blank lines are tolerated")
    func whitespace() throws {
        let gpus = try NvidiaSMI.parseQueryGPU(Fixture.text("constructed/whitespace-crlf.csv"))
        #expect(
            gpus == [
                GPUInfo(
                    index: 0,
                    uuid: "GPU-0d1e2f3a-4b5c-4d6e-8f7a-8b9c0d1e2f30",
                    name: "NVIDIA L4",
                    pciBusID: "00000000:00:03.0",
                    memoryTotalMiB: 23034,
                    memoryUsedMiB: 0,
                    utilizationPercent: 0,
                    temperatureC: 29,
                    powerDrawW: 16.25,
                    eccErrorsUncorrected: 0,
                    migMode: nil,
                    driverVersion: "570.86.15"
                )
            ]
        )
    }

    @Test("empty output and blank lines are no GPUs")
    func empty() throws {
        #expect(try NvidiaSMI.parseQueryGPU("").isEmpty)
        #expect(try NvidiaSMI.parseQueryGPU("\n \n\n").isEmpty)
    }

    @Test(
        "every placeholder nvidia-smi prints becomes nil",
        arguments: ["[N/A]", "[Not Supported]", "N/A", "ERR!", "[Unknown Error]", "[Insufficient Permissions]", ""]
    )
    func placeholders(placeholder: String) throws {
        let p = placeholder
        let line = "0, GPU-x, Some GPU, \(p), \(p), \(p), \(p), \(p), \(p), \(p), \(p), \(p)"
        let gpu = try #require(try NvidiaSMI.parseQueryGPU(line).first)
        #expect(gpu == GPUInfo(index: 0, uuid: "GPU-x", name: "Some GPU"))
        #expect(gpu.isHealthy)
    }

    @Test(
        "bad values are errors naming the field and the line",
        arguments: [
            ("0, GPU-x, G, b, lots, 0, 0, 0, 0, 0, Disabled, 1", "memory.total"),
            ("0, GPU-x, G, b, 1, 0, 0, 0, 1.2.3, 0, Disabled, 1", "power.draw"),
            ("0, GPU-x, G, b, 1, 0, 0, 0, nan, 0, Disabled, 1", "power.draw"),
            ("0, GPU-x, G, b, 1, 0, 0, 0, 1, 99999999999999999999999, Disabled, 1", "ecc.errors"),
            ("x, GPU-x, G, b, 1, 0, 0, 0, 1, 0, Disabled, 1", "index"),
            ("[N/A], GPU-x, G, b, 1, 0, 0, 0, 1, 0, Disabled, 1", "index is missing"),
            ("0, [N/A], G, b, 1, 0, 0, 0, 1, 0, Disabled, 1", "uuid is missing"),
            ("0, GPU-x, , b, 1, 0, 0, 0, 1, 0, Disabled, 1", "name is missing"),
            ("0, GPU-x, G, b, 1, 0", "got 6"),
        ]
    )
    func badValues(line: String, mention: String) {
        let text = "0, GPU-ok, G, b, 1, 0, 0, 0, 1, 0, Disabled, 1\n" + line + "\n"
        let error = #expect(throws: ProbeError.self) { try NvidiaSMI.parseQueryGPU(text) }
        #expect(error?.code == .parse)
        #expect(error?.message.contains(mention) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("line 2") == true, "\(error?.message ?? "")")
    }

    @Test("a very long garbage line is cut in the error message")
    func longLine() {
        let text = String(repeating: "x,", count: 10_000)
        let error = #expect(throws: ProbeError.self) { try NvidiaSMI.parseQueryGPU(text) }
        #expect((error?.message.count ?? 0) < 400)
    }
}
