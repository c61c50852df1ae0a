import Foundation
import Glibc
import TestSupport
import Testing

@testable import NodeProbe

/// End-to-end tests of `NodeProber.probe`. This machine has no GPU, so every test that needs
/// `nvidia-smi` writes a stand-in shell script named `nvidia-smi` into a temporary directory: it checks
/// that it got exactly `NvidiaSMI.queryArguments` and prints a fixture (or hangs, or fails).
@Suite("NodeProber end to end")
struct NodeProberTests {
    /// A fake `nvidia-smi` that prints `fixture` when called with the expected arguments; with no arguments
    /// it prints `summary` and with `topo -m` it prints `topology` (fixture paths), else it fails.
    static func fakeNvidiaSMI(
        in directory: String,
        printing fixture: String,
        status: Int = 0,
        summary: String? = nil,
        topology: String? = nil
    ) throws -> String {
        let arguments = NvidiaSMI.queryArguments
        return try writeScript(
            directory,
            "nvidia-smi",
            """
            if [ "$#" -eq 0 ]; then \(summary.map { "cat '\(Fixture.path($0))'; exit 0" } ?? "exit 9"); fi
            if [ "$1" = topo ] && [ "$2" = -m ]; then \(topology.map { "cat '\(Fixture.path($0))'; exit 0" } ?? "exit 9"); fi
            if [ "$#" -ne 2 ] || [ "$1" != '\(arguments[0])' ] || [ "$2" != '\(arguments[1])' ]; then
              echo "fake nvidia-smi: unexpected arguments: $*" >&2
              exit 64
            fi
            cat '\(Fixture.path(fixture))'
            exit \(status)
            """
        )
    }

    @Test("recorded H100 output on a root built from the same machine's facts")
    func realH100Node() throws {
        try withTemporaryDirectory { directory in
            let fake = try Self.fakeNvidiaSMI(in: directory, printing: "h100-real/query-gpu.csv")
            let inventory = NodeProber(root: Fixture.root("h100-node"), nvidiaSMI: fake).probe()
            #expect(inventory.gpuSource == "nvidia-smi")
            #expect(inventory.gpus == [NvidiaSMITests.realH100])
            #expect(inventory.driverVersion == "580.159.04")
            #expect(inventory.cpus == 16)
            #expect(inventory.memoryBytes == 131_981_020 * 1024)
            #expect(inventory.bootID == "0593a3ed-2edc-4f65-92b8-c5ba67183c31")
            #expect(inventory.warnings.isEmpty)
            #expect(inventory.gpuProbeError == nil)
            #expect(inventory.gpusHealthy)
            #expect(!inventory.hostname.isEmpty)
        }
    }

    @Test("8x H100 under a cgroup v2 limit of 2 CPUs and 16 GiB")
    func eightGPUsInCgroupV2() throws {
        try withTemporaryDirectory { directory in
            let fake = try Self.fakeNvidiaSMI(in: directory, printing: "constructed/8x-h100-sxm.csv")
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake).probe()
            #expect(inventory.gpus.count == 8)
            #expect(inventory.gpuSource == "nvidia-smi")
            #expect(inventory.cpus == 2)
            #expect(inventory.memoryBytes == 16 << 30)
            #expect(inventory.bootID == "11111111-2222-4333-8444-555555555555")
            #expect(inventory.gpuTopology == nil && inventory.cudaVersion == nil)  // neither answered
        }
    }

    @Test("CUDA version and topology, when nvidia-smi gives them")
    func cudaVersionAndTopology() throws {
        try withTemporaryDirectory { directory in
            let fake = try Self.fakeNvidiaSMI(
                in: directory,
                printing: "constructed/8x-h100-sxm.csv",
                summary: "h100-real/nvidia-smi.txt",
                topology: "constructed/topo-8x-h100-sxm.txt"
            )
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake).probe()
            #expect(inventory.cudaVersion == "13.0")
            #expect(inventory.gpuTopology?.count == 8)
            #expect(inventory.gpuTopology?[3][4] == "NV18")
            // A topology for a different number of GPUs than the query listed is not trusted.
            let mismatched = try Self.fakeNvidiaSMI(
                in: directory,
                printing: "constructed/8x-h100-sxm.csv",
                topology: "constructed/topo-4x-pcie-two-switches.txt"
            )
            #expect(NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: mismatched).probe().gpuTopology == nil)
        }
    }

    @Test("a hanging nvidia-smi: a warning, no GPUs, and back within the timeout")
    func hangingNvidiaSMI() throws {
        try withTemporaryDirectory { directory in
            let fake = try writeScript(directory, "nvidia-smi", "/bin/sleep 30")
            let start = ContinuousClock.now
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake, timeout: .milliseconds(500))
                .probe()
            let elapsed = ContinuousClock.now - start
            #expect(elapsed < .seconds(15))  // far below the fake's 30 s: only "did not wait for it"
            #expect(inventory.gpus.isEmpty)
            #expect(inventory.gpuSource == "none")
            #expect(inventory.warnings.contains("nvidia-smi timed out after 500ms"))
            #expect(inventory.gpuProbeError?.code == .timedOut)
            #expect(!inventory.gpusHealthy)
            #expect(inventory.cpus == 2)  // the rest of the probe still ran
        }
    }

    @Test("no nvidia-smi: a warning, no GPUs, not an error")
    func missingNvidiaSMI() {
        let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: "/nonexistent/nvidia-smi").probe()
        #expect(inventory.gpus.isEmpty)
        #expect(inventory.gpuSource == "none")
        #expect(inventory.warnings.count == 1)
        #expect(inventory.warnings.first?.contains("nvidia-smi not found") == true)
        #expect(inventory.gpuProbeError == nil)
    }

    @Test("an nvidia-smi that cannot be executed is a failed command, not a missing one")
    func notExecutableNvidiaSMI() throws {
        try withTemporaryDirectory { directory in
            let fake = try writeScript(directory, "nvidia-smi", "exit 0")
            chmod(fake, 0o644)
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake).probe()
            #expect(inventory.gpus.isEmpty)
            #expect(inventory.gpuProbeError?.code == .commandFailed)
            #expect(inventory.warnings.first?.hasPrefix("nvidia-smi could not run: ") == true)
        }
    }

    @Test("nvidia-smi that cannot reach the driver")
    func driverFailure() throws {
        try withTemporaryDirectory { directory in
            let fake = try Self.fakeNvidiaSMI(
                in: directory,
                printing: "constructed/garbage-driver-failure.txt",
                status: 9
            )
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake).probe()
            #expect(inventory.gpus.isEmpty)
            #expect(inventory.gpuProbeError?.code == .commandFailed)
            let warning = try #require(inventory.warnings.first)
            #expect(warning.contains("status 9"))
            #expect(warning.contains("couldn't communicate with the NVIDIA driver"))
        }
    }

    @Test("garbage output is a parse warning naming the line")
    func garbageOutput() throws {
        try withTemporaryDirectory { directory in
            let fake = try Self.fakeNvidiaSMI(in: directory, printing: "constructed/garbage-partial.csv")
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake).probe()
            #expect(inventory.gpus.isEmpty)
            #expect(inventory.gpuProbeError?.code == .parse)
            #expect(inventory.warnings.first?.contains("line 2") == true)
        }
    }

    @Test("an unhealthy GPU is listed, with a warning")
    func unhealthyGPU() throws {
        try withTemporaryDirectory { directory in
            let fake = try Self.fakeNvidiaSMI(in: directory, printing: "constructed/ecc-errors.csv")
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake).probe()
            #expect(inventory.gpus.count == 2)
            #expect(!inventory.gpusHealthy)
            #expect(inventory.warnings.count == 1)
            #expect(inventory.warnings.first?.hasPrefix("GPU 1 (GPU-9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c61)") == true)
        }
    }

    @Test("declared GPUs override detection: nvidia-smi is not even run")
    func declaredGPUs() throws {
        try withTemporaryDirectory { directory in
            let fake = try writeScript(directory, "nvidia-smi", "/bin/sleep 30")
            let start = ContinuousClock.now
            let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: fake, timeout: .seconds(5))
                .probe(declaredGPUs: DeclaredGPUs(count: 4, name: "NVIDIA A10", memoryMiB: 24576))
            #expect(ContinuousClock.now - start < .seconds(15))  // nvidia-smi (sleep 30) was not run
            #expect(inventory.gpuSource == "declared")
            #expect(inventory.gpus.map(\.index) == [0, 1, 2, 3])
            #expect(inventory.gpus.map(\.uuid) == ["DECLARED-0", "DECLARED-1", "DECLARED-2", "DECLARED-3"])
            #expect(inventory.gpus.allSatisfy { $0.name == "NVIDIA A10" && $0.memoryTotalMiB == 24576 })
            #expect(inventory.warnings.isEmpty)
        }
    }

    @Test("declaring zero GPUs means a CPU-only node without asking nvidia-smi")
    func declaredZero() {
        let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: "/nonexistent/nvidia-smi")
            .probe(declaredGPUs: DeclaredGPUs(count: 0))
        #expect(inventory.gpus.isEmpty)
        #expect(inventory.gpuSource == "declared")
        #expect(inventory.warnings.isEmpty)
    }

    @Test("CPU and memory overrides replace detection")
    func overrides() {
        let inventory = NodeProber(root: Fixture.root("cgroup-v2"), nvidiaSMI: "/nonexistent/nvidia-smi")
            .probe(declaredGPUs: DeclaredGPUs(count: 0), cpusOverride: 12, memoryOverride: 1 << 30)
        #expect(inventory.cpus == 12)
        #expect(inventory.memoryBytes == 1 << 30)
    }

    @Test(
        "CPUs and memory from fixture roots",
        arguments: [
            ("cgroup-v2", 2, Int64(16) << 30),
            ("cgroup-v2-unlimited", 8, Int64(65_755_880) * 1024),
            ("cgroup-v2-nested", 4, Int64(8) << 30),
            ("h100-node", 16, Int64(131_981_020) * 1024),
            ("cgroup-v1", 1, Int64(4) << 30),
            ("cgroup-v1-unlimited", 5, Int64(32_779_384) * 1024),
        ]
    )
    func roots(name: String, cpus: Int, memory: Int64) {
        let inventory = NodeProber(root: Fixture.root(name), nvidiaSMI: "/nonexistent/nvidia-smi")
            .probe(declaredGPUs: DeclaredGPUs(count: 0))
        #expect(inventory.cpus == cpus)
        #expect(inventory.memoryBytes == memory)
        #expect(inventory.warnings.isEmpty)
    }

    @Test("a root with only /proc/meminfo: online CPUs from sysconf")
    func bareRoot() {
        let inventory = NodeProber(root: Fixture.root("bare"), nvidiaSMI: "/nonexistent/nvidia-smi")
            .probe(declaredGPUs: DeclaredGPUs(count: 0))
        #expect(inventory.cpus == max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1))
        #expect(inventory.memoryBytes == 16_384_000 * 1024)
        #expect(inventory.bootID == nil)
    }

    @Test("an empty root: memory 0 with a warning, never a crash")
    func emptyRoot() throws {
        try withTemporaryDirectory { directory in
            let inventory = NodeProber(root: directory, nvidiaSMI: "/nonexistent/nvidia-smi")
                .probe(declaredGPUs: DeclaredGPUs(count: 0))
            #expect(inventory.cpus >= 1)
            #expect(inventory.memoryBytes == 0)
            #expect(inventory.warnings.count == 1)
        }
    }

    @Test("this machine, for real (no GPU here)")
    func thisMachine() {
        let inventory = NodeProber(nvidiaSMI: "/nonexistent/nvidia-smi").probe()
        #expect(inventory.cpus >= 1)
        #expect(inventory.memoryBytes > 0)
        #expect(!inventory.hostname.isEmpty)
        #expect(inventory.bootID?.count == 36)
        #expect(NodeProber.bootID() == inventory.bootID)
    }
}
