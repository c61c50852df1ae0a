import ClusterCore
import ClusterWire
import Foundation
import Testing

/// `corral usage` and `GET /v1/usage` against jobs whose run times and GPUs the test knows from their records:
/// the sums per user and per node, failures, what a user may see, and bad input.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AccountingTests {
    /// GPU-hours of a finished job from its own record: run time of each attempt × its GPUs.
    static func gpuHours(_ job: JobView) -> Double {
        var hours = 0.0
        for attempt in job.attempts {
            guard let start = attempt.startedAt.flatMap(WireTime.parse),
                let end = attempt.endedAt.flatMap(WireTime.parse)
            else { continue }
            let seconds = Double((end - start).milliseconds) / 1000
            hours += seconds * Double(job.gpus) / 3600
        }
        return hours
    }

    func usage(_ cluster: TestCluster, _ arguments: [String], token: String? = nil) async throws -> UsageResponse {
        let env = token.map { ["CORRAL_TOKEN": $0] } ?? [:]
        let result = try await cluster.corral(["usage", "--json"] + arguments, env: env)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder.wire.decode(UsageResponse.self, from: Data(result.stdout.utf8))
    }

    @Test func usageSumsWhatJobsHeldPerUserAndNodeAndUsersSeeOnlyTheirOwn() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 4)
        try await cluster.configureCLI()
        let created = try await cluster.corral(["tokens", "create", "--user", "alice", "--json"])
        let alice = try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        let long = try await cluster.submit(["--gpus", "2"], ["sleep", "2"])
        let failing = try await cluster.submit(["--gpus", "1"], ["sh", "-c", "sleep 1; exit 3"])
        let theirs = try await cluster.corral(
            ["submit", "--gpus", "1", "--", "sleep", "1"],
            env: ["CORRAL_TOKEN": alice]
        )
        let aliceJob = theirs.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var done: [JobView] = []
        for id in [long, failing, aliceJob] {
            done.append(try await cluster.waitForState(id, ["SUCCEEDED", "FAILED"], timeout: 60))
        }
        let byUser = try await usage(cluster, [])
        let admin = try #require(byUser.rows.first { $0.key == "admin" })
        let mine = try #require(byUser.rows.first { $0.key == "alice" })
        #expect(admin.jobs == 2 && admin.failures == 1 && mine.jobs == 1 && mine.failures == 0)
        #expect(abs(admin.gpuHours - Self.gpuHours(done[0]) - Self.gpuHours(done[1])) < 1e-9, "\(admin)")
        #expect(abs(mine.gpuHours - Self.gpuHours(done[2])) < 1e-9 && mine.gpuHours > 0)
        #expect(admin.meanWaitSeconds != nil && admin.cpuHours > 0)
        let byNode = try await usage(cluster, ["--by", "node", "--since", "1h"])
        #expect(byNode.by == "node" && byNode.rows.map(\.key) == ["node"] && byNode.rows.first?.jobs == 3)
        // A user sees their own row only, and may not ask for another's.
        let own = try await usage(cluster, ["--by", "queue"], token: alice)
        #expect(own.rows.map(\.jobs) == [1], "\(own)")
        let refused = try await cluster.corral(["usage", "--user", "admin"], env: ["CORRAL_TOKEN": alice])
        #expect(refused.status == 1 && refused.stderr.contains("only an admin"), "\(refused.stderr)")
        for bad in [["--since", "yesterday"], ["--by", "rack"], ["--since", "99999d"]] {
            let result = try await cluster.corral(["usage"] + bad)
            #expect(result.status != 0 && !result.stderr.isEmpty, "\(bad): \(result.stdout)")
        }
        // The table, and corral show's GPU-hours line.
        let table = try await cluster.corral(["usage"])
        #expect(table.stdout.contains("USER") && table.stdout.contains("GPU-HOURS") && table.stdout.contains("alice"))
        let shown = try await cluster.corral(["show", long])
        #expect(shown.stdout.contains("gpu-hours:"), "\(shown.stdout)")
    }
}
