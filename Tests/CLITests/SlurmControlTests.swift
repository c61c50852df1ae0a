import ClusterWire
import Testing

@testable import CLIKit

/// `scontrol hold|release|requeue|requeuehold|update` as parsed into Corral's job control (issue 17).
@Suite struct SlurmControlTests {
    static let a = SlurmJobID.number(of: "k3xq9mz2ab")
    static let b = SlurmJobID.number(of: "p7rs2tv4wy")

    @Test func jobListsAsSlurmTakesThem() throws {
        #expect(try SlurmControl.parse(["hold", "\(Self.a),\(Self.b)"]) == .hold(["k3xq9mz2ab", "p7rs2tv4wy"]))
        #expect(try SlurmControl.parse(["release", Self.a, Self.b]) == .release(["k3xq9mz2ab", "p7rs2tv4wy"]))
        #expect(try SlurmControl.parse(["requeue", "jobid=\(Self.a)"]) == .requeue(["k3xq9mz2ab"], hold: false))
        #expect(try SlurmControl.parse(["requeuehold", Self.a]) == .requeue(["k3xq9mz2ab"], hold: true))
        #expect(try SlurmControl.parse(["hold", "\(Self.a)_3"]) == .hold(["k3xq9mz2ab_3"]))
    }

    @Test func updateTakesJobIdTimeLimitAndPriorityInAnyCase() throws {
        #expect(
            try SlurmControl.parse(["update", "JobId=\(Self.a)", "TimeLimit=1:30:00", "Priority=5"])
                == .update("k3xq9mz2ab", JobUpdateRequest(timeLimit: 5400, priority: 5))
        )
        #expect(
            try SlurmControl.parse(["update", "job=\(Self.a)", "timelimit=10"])
                == .update("k3xq9mz2ab", JobUpdateRequest(timeLimit: 600))
        )
    }

    @Test(arguments: [
        ["hold"], ["release", "notanid!"], ["hold", "99999999999999999999"], ["update"], ["update", "JobId=\(a)"],
        ["update", "TimeLimit=10"], ["update", "JobId=\(a)", "TimeLimit=UNLIMITED"],
        ["update", "JobId=\(a)", "Priority=high"], ["update", "JobId=\(a)", "Partition=gpu"],
        ["update", "JobId=\(a)", "TimeLimit"], ["update", "JobId=x", "Priority=1"],
        ["update", "JobId=\(a)", "TimeLimit=1:2:3:4"],
    ])
    func malformedRequestsAreRefusedWithAMessage(_ arguments: [String]) {
        #expect(throws: SlurmError.self, "\(arguments)") { try SlurmControl.parse(arguments) }
    }
}
