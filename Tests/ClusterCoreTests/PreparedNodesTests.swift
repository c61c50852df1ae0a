import ClusterCore
import ClusterCoreTesting
import Testing

/// A pass given prepared nodes (issue 16: node views and static fits kept across passes) plans exactly what a
/// pass that builds them plans, on random clusters, policies and job streams, with one `PreparedNodes` reused
/// across many passes of one cluster (its cache of static fits fills as job classes come).
@Suite struct PreparedNodesTests {
    @Test(arguments: 0..<40)
    func preparedAndFromScratchPassesAgree(_ seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 7919 &+ 11)
        let scenario = SchedulerPropertyTests.randomPolicyScenario(&rng)
        var prepared: PreparedNodes? = PreparedNodes(scenario.snapshot.nodes)
        var policies = [scenario.policy]
        var shortest = scenario.policy
        _ = shortest.use("shortest-first")
        policies.append(shortest)
        // Several passes of one cluster: the same nodes, other jobs and holdings each time.
        for pass in 0..<4 {
            var pending = scenario.snapshot
            if pass > 0 {
                var other = SchedulerPropertyTests.randomPolicyScenario(&rng)
                other.nodes = scenario.nodes
                pending = other.snapshot
            }
            for policy in policies {
                let fromScratch = Scheduler.plan(pending, policy: policy)
                #expect(
                    Scheduler.plan(pending, policy: policy, prepared: &prepared) == fromScratch,
                    "seed \(seed), pass \(pass)"
                )
            }
        }
    }

    @Test func theBenchmarkClusterPlansTheSame() {
        let snapshot = SchedulerBenchmark.makeSnapshot(pendingJobs: 300, nodes: 200, gpusPerNode: 8, gangs: 5, seed: 3)
        var prepared: PreparedNodes? = PreparedNodes(snapshot.nodes)
        for policy in [SchedulerBenchmark.policy, SchedulingPolicy.standard] {
            #expect(
                Scheduler.plan(snapshot, policy: policy, prepared: &prepared)
                    == Scheduler.plan(snapshot, policy: policy)
            )
            // Again, with the static fits now kept.
            #expect((prepared?.classes ?? 0) > 0)
            #expect(
                Scheduler.plan(snapshot, policy: policy, prepared: &prepared)
                    == Scheduler.plan(snapshot, policy: policy)
            )
        }
    }
}
