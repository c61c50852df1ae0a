import Foundation
import Glibc
import TestSupport
import Testing

@testable import NodeProbe

/// NVML through `dlopen`. This machine has no NVIDIA driver, so `libnvidia-ml.so.1` is a stand-in built here
/// from `Fixtures/fake-nvml/fake_nvml.c` (the functions and struct layouts of nvml.h, answering as two H100s
/// would) with the toolchain's clang. A real driver's library was not at hand in this session; on a GPU node
/// `corral-agent probe` shows `gpus N (nvml)` when it is used (docs/hardware.md).
@Suite(.serialized) struct NVMLTests {
    /// Compiles the stand-in into `directory`; `defines` select its behaviour.
    static func build(in directory: String, defines: [String] = []) throws -> String {
        let library = directory + "/libnvidia-ml.so.1"
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compile.arguments =
            ["clang", "-shared", "-fPIC", "-O1", "-o", library, Fixture.path("fake-nvml/fake_nvml.c")]
            + defines.map { "-D\($0)" }
        try compile.run()
        compile.waitUntilExit()
        #expect(compile.terminationStatus == 0, "clang could not build the stand-in NVML")
        return library
    }

    @Test func noLibraryOrNoNVMLInItIsNil() {
        #expect(NVML(path: "/nonexistent/libnvidia-ml.so.1") == nil)
        #expect(NVML(path: "libc.so.6") == nil)  // loads, but has no nvmlInit_v2
    }

    @Test func readsTheGPUsAndTheirProcesses() throws {
        try withTemporaryDirectory { directory in
            let nvml = try #require(NVML(path: try Self.build(in: directory)))
            let sample = try nvml.sample()
            #expect(sample.cuda == "13.0")
            #expect(sample.gpus.count == 2)
            let first = try #require(sample.gpus.first)
            #expect(first.index == 0 && first.uuid == "GPU-fa4e0000-0000-0000-0000-000000000000")
            #expect(first.name == "NVIDIA H100 80GB HBM3")
            #expect(first.memoryTotalMiB == 81559 && first.memoryUsedMiB == 710)
            #expect(first.utilizationPercent == 37 && first.temperatureC == 39 && first.powerDrawW == 123.3)
            #expect(first.eccErrorsUncorrected == 0 && first.migMode == nil && first.isHealthy)
            #expect(first.pciBusID == "00000000:06:00.0" && first.driverVersion == "580.159.04")
            let second = sample.gpus[1]
            #expect(second.eccErrorsUncorrected == 3 && !second.isHealthy && second.migMode == "Enabled")
            #expect(sample.apps == [NvidiaSMI.ComputeApp(pid: 520, gpuUUID: first.uuid, usedMemoryMiB: 710)])
        }
    }

    @Test func theProberAsksNVMLFirst() throws {
        try withTemporaryDirectory { directory in
            let nvml = NVML(path: try Self.build(in: directory))
            // nvidia-smi is absent here: everything comes from NVML.
            let prober = NodeProber(
                root: Fixture.root("cgroup-v2"),
                nvidiaSMI: directory + "/no-nvidia-smi",
                nvml: nvml
            )
            let inventory = prober.probe()
            #expect(inventory.gpuSource == "nvml")
            #expect(inventory.gpus.count == 2 && inventory.cudaVersion == "13.0")
            #expect(inventory.warnings.contains { $0.contains("GPU 1") && $0.contains("unhealthy") })
            #expect(prober.sampleGPUs()?.apps.first?.pid == 520)
        }
    }

    @Test func aHungLibraryTimesOutAndIsNotAskedAgain() throws {
        try withTemporaryDirectory { directory in
            let nvml = try #require(
                NVML(path: try Self.build(in: directory, defines: ["FAKE_NVML_HANG"]), timeout: .milliseconds(300))
            )
            let start = ContinuousClock.now
            #expect(throws: ProbeError.self) { try nvml.sample() }
            #expect(ContinuousClock.now - start < .seconds(20))  // far below the stand-in's 600 s hang
            do {
                _ = try nvml.sample()
                Issue.record("a hung NVML must not be asked again")
            } catch {
                #expect("\(error)".contains("hung earlier"))
            }
            // The prober then falls back to nvidia-smi, and says why.
            let fake = try writeScript(directory, "nvidia-smi", "cat '\(Fixture.path("h100-real/query-gpu.csv"))'")
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake, nvml: nvml).probe()
            #expect(inventory.gpuSource == "nvidia-smi")
            #expect(inventory.warnings.contains { $0.contains("NVML") && $0.contains("hung") })
        }
    }
}
