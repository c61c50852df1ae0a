import ClusterCore
import Testing

/// Issue 20: a job with `--stage` runs only where its node's agent stages from roots that hold all its sources
/// (`corral.stage`), with node views and static fits kept across passes as the controller keeps them.
@Suite struct StagePlacementTests {
    typealias F = Fixtures

    static func job(_ id: String, _ sources: [String]) -> Job {
        var job = F.job(id, gpus: 1)
        job.spec.stage = sources.enumerated().map { StageSource(source: $0.element, name: "S\($0.offset)") }
        return job
    }

    @Test func stageJobsGoWhereTheirRootsAreAndWaitWhereNoneAre() {
        let nodes = [
            F.node("a-plain", gpus: 8),
            F.node("b-nfs", gpus: 1, labels: [NodeLabels.stage: "/nfs"]),
            F.node("c-data", gpus: 1, labels: [NodeLabels.stage: "/data,/scratch"]),
        ]
        var prepared: PreparedNodes? = PreparedNodes(nodes)
        // One pass per job: the prepared fits of one source set must not serve another.
        for (job, expected) in [
            (Self.job("j1", ["/nfs/model"]), "b-nfs"), (Self.job("j2", ["/etc/x"]), nil),
            (Self.job("j3", ["/data/x", "/scratch/y"]), "c-data"), (Self.job("j4", ["/nfs/a", "/data/b"]), nil),
            (F.job("j5", gpus: 1), "b-nfs"),  // best fit: a job without sources goes anywhere
        ] {
            let snapshot = ClusterSnapshot(pending: [job], nodes: nodes, now: SchedulerPolicyTests.now)
            let schedule = Scheduler.plan(snapshot, policy: .standard, prepared: &prepared)
            #expect(schedule == Scheduler.plan(snapshot, policy: .standard), "\(job.id)")
            #expect(schedule.assignments.first?.node.rawValue == expected, "\(job.id)")
            if expected == nil { #expect(schedule.pending[job.id] == .noFeasibleNode, "\(job.id)") }
        }
        let job = Self.job("j2", ["/etc/x"])
        let why = Scheduler.explain(
            job: job,
            snapshot: ClusterSnapshot(pending: [job], nodes: nodes, now: SchedulerPolicyTests.now),
            policy: .standard
        ).map(\.description).joined(separator: "\n")
        #expect(why.contains("stages nothing") && why.contains("stages only below /nfs, not /etc/x"), "\(why)")
    }
}
