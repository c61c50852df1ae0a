import Testing

@testable import NodeProbe

/// `nvidia-smi topo -m`: the recorded H100 output and constructed multi-GPU layouts (see Fixtures/README.md).
@Suite struct GPUTopologyTests {
    @Test("recorded: the real single H100 (escapes in the header, the legend after the matrix)")
    func realH100() throws {
        let system = try Fixture.text("h100-real/system.txt")
        #expect(GPUTopology.parse(system) == [["X"]])
    }

    @Test func eightH100sWithNICs() throws {
        let links = try #require(GPUTopology.parse(try Fixture.text("constructed/topo-8x-h100-sxm.txt")))
        #expect(links.count == 8)
        #expect(links.allSatisfy { $0.count == 8 })
        #expect(links[0][0] == "X" && links[0][7] == "NV18" && links[6][2] == "NV18")
    }

    @Test func pcieServerWithTwoSwitches() throws {
        let links = GPUTopology.parse(try Fixture.text("constructed/topo-4x-pcie-two-switches.txt"))
        #expect(
            links == [
                ["X", "PIX", "SYS", "SYS"], ["PIX", "X", "SYS", "SYS"], ["SYS", "SYS", "X", "PIX"],
                ["SYS", "SYS", "PIX", "X"],
            ]
        )
    }

    @Test(arguments: [
        "",
        "No devices were found",
        "\tGPU0\tGPU1\nGPU0\t X \tNV4\n",  // a row missing
        "\tGPU0\tGPU1\nGPU0\t X \tNV4\nGPU1\tNV4\n",  // a row too short
        "\tGPU0\tGPU1\nGPU0\t X \tFAST\nGPU1\tFAST\t X \n",  // an unknown link code
        "\tGPU0\tGPU1\nGPU0\t X \tNV-3\nGPU1\tNV-3\t X \n",  // a negative link count
        "\tGPU0\tGPU1\nGPU0\tPIX\tPIX\nGPU1\tPIX\t X \n",  // no X on the diagonal
    ])
    func malformedOutputIsNoTopology(_ output: String) {
        #expect(GPUTopology.parse(output) == nil)
    }

    @Test func rowsAreMatchedByName() {
        let output = "\tGPU0\tGPU1\nGPU1\tPIX\t X \nGPU0\t X \tPIX\n"
        #expect(GPUTopology.parse(output) == [["X", "PIX"], ["PIX", "X"]])
    }

    @Test func cudaVersionFromTheRecordedSummary() throws {
        #expect(NvidiaSMI.cudaVersion(try Fixture.text("h100-real/nvidia-smi.txt")) == "13.0")
        #expect(NvidiaSMI.cudaVersion("no header here") == nil)
        #expect(NvidiaSMI.cudaVersion("CUDA Version: N/A") == nil)
    }
}
