import ClusterCore
import ClusterCoreTesting

/// One `Scheduler.plan` pass over `SchedulerBenchmark.makeSnapshot`: the pure scheduling cost, no I/O.
public enum SchedulerBench {
    /// `prepared`: as the controller plans, with node views, static fits and held allocations kept across passes
    /// (issue 16); false: each pass builds them (the figure before).
    public static func run(jobs: Int, nodes: Int, gpus: Int, runs: Int, gangs: Int = 0, prepared: Bool = true) -> Figure
    {
        var snapshot = SchedulerBenchmark.makeSnapshot(
            pendingJobs: jobs,
            nodes: nodes,
            gpusPerNode: gpus,
            gangs: gangs,
            seed: 42
        )
        var kept: PreparedNodes? = prepared ? PreparedNodes(snapshot.nodes) : nil
        if prepared {
            // What allocations hold, kept as the controller keeps it (HeldLedger): the pass reads it from there.
            var held: [AllocationID: HeldResources] = [:]
            for (position, allocation) in snapshot.held.enumerated() {
                held[AllocationID(job: allocation.job ?? JobID("held-\(position)"), attempt: 1, rank: position)] =
                    allocation
            }
            kept?.trackHeld(held, policy: SchedulerBenchmark.policy, now: snapshot.now)
            snapshot.held = []
        }
        let clock = ContinuousClock()
        var samples: [Double] = []
        var assigned = 0
        // Warm up: first-touch allocations (and, prepared, the static fits of the classes, as after one pass).
        _ = Scheduler.plan(snapshot, policy: SchedulerBenchmark.policy, prepared: &kept)
        for _ in 0..<max(1, runs) {
            let start = clock.now
            let schedule = Scheduler.plan(snapshot, policy: SchedulerBenchmark.policy, prepared: &kept)
            samples.append((clock.now - start).seconds * 1000)
            assigned = schedule.assignments.count + schedule.gangAssignments.count
        }
        return Figure(
            name: gangs > 0 ? "scheduling_pass_gangs" : jobs <= 100 ? "scheduling_pass_few_pending" : "scheduling_pass",
            unit: "ms",
            samples: samples.map { rounded($0) },
            notes:
                "Scheduler.plan over \(jobs) pending jobs\(gangs > 0 ? " (\(gangs) of them gangs of 2-8 nodes)" : ""), "
                + "\(nodes) nodes of \(gpus) GPUs (a third busy); \(assigned) jobs placed per pass"
                + (prepared ? "; node views and held allocations kept across passes" : "; node views built each pass"),
            extra: ["assigned": Double(assigned)]
        )
    }
}
