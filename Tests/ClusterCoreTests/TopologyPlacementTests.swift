import ClusterCore
import Testing

/// Placement within a node when `nvidia-smi topo -m` is known (matrices as in the NodeProbe fixtures
/// `constructed/topo-4x-pcie-two-switches.txt` and `topo-8x-h100-sxm.txt`).
@Suite struct TopologyPlacementTests {
    typealias F = Fixtures

    /// GPUs 0-1 and 2-3 each behind one PCIe switch, the pairs on different sockets.
    static let pcie = [
        ["X", "PIX", "SYS", "SYS"], ["PIX", "X", "SYS", "SYS"], ["SYS", "SYS", "X", "PIX"], ["SYS", "SYS", "PIX", "X"],
    ]
    static let nvlink = (0..<8).map { a in (0..<8).map { b in a == b ? "X" : "NV18" } }

    static func place(_ gpus: Int, on node: Node, held: [Int] = []) -> [Int]? {
        let holding =
            held.isEmpty
            ? [] : [HeldResources(node: node.id, gpuIndices: held, resources: Resources(gpus: held.count))]
        let snapshot = ClusterSnapshot(
            pending: [F.job("j", gpus: gpus)],
            nodes: [node],
            held: holding,
            now: SchedulerPolicyTests.now
        )
        return Scheduler.plan(snapshot, policy: .standard).assignments.first?.gpuIndices
    }

    static func node(gpus: Int, topology: [[String]]?) -> Node {
        var node = F.node("n", gpus: gpus)
        node.gpuTopology = topology
        return node
    }

    @Test func twoGPUsGoBehindOneSwitchRatherThanAcrossSockets() {
        // Free: 1, 2, 3. Adjacent indices would give 1-2 (across sockets); the topology gives 2-3 (one switch).
        #expect(Self.place(2, on: Self.node(gpus: 4, topology: Self.pcie), held: [0]) == [2, 3])
        #expect(Self.place(2, on: Self.node(gpus: 4, topology: nil), held: [0]) == [1, 2])
    }

    @Test func equalLinksKeepAdjacentIndices() {
        #expect(Self.place(4, on: Self.node(gpus: 8, topology: Self.nvlink), held: [0, 5]) == [1, 2, 3, 4])
        #expect(Self.place(2, on: Self.node(gpus: 4, topology: Self.pcie)) == [0, 1])
    }

    @Test func aTopologyThatDoesNotMatchTheGPUsIsIgnored() {
        let short = Array(Self.pcie.prefix(2))
        #expect(Self.place(2, on: Self.node(gpus: 4, topology: short), held: [0]) == [1, 2])
        let ragged = [["X"], ["PIX", "X"], ["SYS"], []]
        #expect(Self.place(2, on: Self.node(gpus: 4, topology: ragged), held: [0]) == [1, 2])
    }

    @Test func unknownCodesWeighBetweenSocketsAndSwitches() {
        let odd = [["X", "???", "SYS"], ["???", "X", "SYS"], ["SYS", "SYS", "X"]]
        #expect(Self.place(2, on: Self.node(gpus: 3, topology: odd)) == [0, 1])
        let far = [["X", "SYS", "???"], ["SYS", "X", "SYS"], ["???", "SYS", "X"]]
        #expect(Self.place(2, on: Self.node(gpus: 3, topology: far)) == [0, 2])
    }
}
