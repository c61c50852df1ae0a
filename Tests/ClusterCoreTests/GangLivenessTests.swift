import ClusterCore
import Testing

/// Node liveness for gang ranks: a rank taken on a node that went silent is settled by its lease whatever
/// its gang's state, and a registration that no longer lists a taken rank ends it.
@Suite struct GangLivenessTests {
    typealias World = GangLifecycleTests.World

    static func view(_ world: World, nodes: [Node], at now: Timestamp) -> LivenessView {
        LivenessView(
            nodes: Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0) }),
            allocations: world.allocations,
            jobs: [world.job.id: world.job],
            settings: NodeLivenessTests.settings,
            startedAt: .zero,
            now: now
        )
    }

    @Test func aTakenRankOnALostNodeOfAnAllocatedGangIsGoneOnceItsLeaseRunsOut() {
        var world = World(nodes: 2)
        world.place()
        world.handle(.accepted(attempt: 1, rank: 0))
        var lost = NodeLivenessTests.node("n0", heartbeat: .zero)
        lost.status = .lost
        let alive = NodeLivenessTests.node("n1", heartbeat: world.now)
        let renewed = world.allocations[world.id(0)]!.leaseRenewedAt
        let before = NodeLiveness.tick(Self.view(world, nodes: [lost, alive], at: renewed + .seconds(119)))
        #expect(!before.contains { if case .job(_, .allocationGone) = $0 { true } else { false } })
        let after = NodeLiveness.tick(Self.view(world, nodes: [lost, alive], at: renewed + .seconds(121)))
        let gone = LifecycleEvent.allocationGone(attempt: 1, reason: "its allocation lease on n0 expired", rank: 0)
        #expect(after.contains(.job(world.job.id, gone)), "\(after)")
    }

    @Test func aRegistrationWithoutATakenRankEndsItAndHandsOutAnUntakenOneAgain() {
        var world = World(nodes: 2)
        world.place()
        world.handle(.accepted(attempt: 1, rank: 0))
        let view = Self.view(world, nodes: [NodeLivenessTests.node("n0"), NodeLivenessTests.node("n1")], at: world.now)
        let taken = NodeLiveness.registration(
            node: NodeID("n0"),
            reported: [],
            rebooted: true,
            held: [world.allocations[world.id(0)]!],
            view: view
        )
        #expect(taken == [.job(world.job.id, .allocationGone(attempt: 1, reason: "node n0 rebooted", rank: 0))])
        let untaken = NodeLiveness.registration(
            node: NodeID("n1"),
            reported: [],
            rebooted: false,
            held: [world.allocations[world.id(1)]!],
            view: view
        )
        #expect(untaken == [.effect(.redeliver(world.id(1)))])
    }
}
