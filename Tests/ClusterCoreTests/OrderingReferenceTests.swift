import ClusterCore
import ClusterCoreTesting
import Testing

/// The pass's order is computed without copying jobs (keys hold positions, not ids) and its protected jobs
/// in one scan instead of a sort by age (issue 16). Both must give exactly the order of the plain
/// definition, written here as it was before: every job sorted by age to find the protected ones, then all
/// of them sorted by the whole key, ids included. Random queues with ties on every field.
@Suite struct OrderingReferenceTests {
    typealias F = Fixtures
    static let now = Timestamp(milliseconds: 100_000_000)

    static func policy(_ name: String) -> SchedulingPolicy {
        var policy = SchedulingPolicy.standard
        let known = policy.use(name)
        precondition(known, "no policy \(name)")
        return policy
    }

    /// Positions of the protected jobs, as `Scheduler.protected` defined them with a sort.
    static func referenceProtected(_ jobs: [Job], policy: SchedulingPolicy, now: Timestamp) -> Set<Int> {
        let byAge = jobs.indices.sorted { (jobs[$0].submittedAt, jobs[$0].id) < (jobs[$1].submittedAt, jobs[$1].id) }
        var chosen: [Int] = []
        if let big = byAge.first(where: { jobs[$0].spec.resources.gpus * jobs[$0].spec.nodes >= 2 }) {
            chosen.append(big)
        }
        var stretched = 0
        for index in byAge where stretched < 2 && !chosen.contains(index) {
            let limit = Double(max(policy.timeLimit(of: jobs[index].spec), 10))
            let waited = Double((now - jobs[index].submittedAt).milliseconds) / 1000
            if (waited + limit) / limit >= 3 {
                chosen.append(index)
                stretched += 1
            }
        }
        return Set(chosen)
    }

    static func referenceOrder(_ jobs: [Job], policy: SchedulingPolicy, usage: FairShareUsage) -> [JobID] {
        let shortest = policy.ordering == .shortestFirst
        let protected = shortest ? referenceProtected(jobs, policy: policy, now: now) : []
        func key(_ index: Int) -> (Int, Int, Int, Int, Double, Timestamp, Int) {
            let job = jobs[index]
            return (
                -policy.queue(named: job.spec.queue).priority, -job.spec.priority, protected.contains(index) ? 0 : 1,
                shortest ? policy.timeLimit(of: job.spec) : 0, usage.value(for: job.user, at: now), job.submittedAt,
                job.array?.index ?? -1
            )
        }
        return jobs.indices.sorted { a, b in
            let (x, y) = (key(a), key(b))
            if x.0 != y.0 { return x.0 < y.0 }
            if x.1 != y.1 { return x.1 < y.1 }
            if x.2 != y.2 { return x.2 < y.2 }
            if x.3 != y.3 { return x.3 < y.3 }
            if x.4 != y.4 { return x.4 < y.4 }
            if x.5 != y.5 { return x.5 < y.5 }
            if x.6 != y.6 { return x.6 < y.6 }
            return jobs[a].id < jobs[b].id
        }.map { jobs[$0].id }
    }

    static func randomQueue(seed: UInt64, count: Int) -> ([Job], FairShareUsage) {
        var random = SplitMix64(seed: seed)
        var usage = FairShareUsage()
        let users = ["alice", "bob", "carol"]
        usage.record(
            user: "bob",
            gpuSeconds: Double(random.next() % 10_000),
            at: Timestamp(milliseconds: now.milliseconds - 3_600_000)
        )
        usage.record(
            user: "carol",
            gpuSeconds: Double(random.next() % 10_000),
            at: Timestamp(milliseconds: now.milliseconds - 60_000)
        )
        var jobs: [Job] = []
        for number in 0..<count {
            // Few distinct values of each field, so ties are common; ids in random order of submission.
            jobs.append(
                F.job(
                    "j\(random.next() % 1_000_000)-\(number)",
                    gpus: [0, 1, 2, 8][Int(random.next() % 4)],
                    priority: Int(random.next() % 2),
                    submittedAt: now.milliseconds - Int64(random.next() % 6) * 600_000,
                    user: users[Int(random.next() % 3)],
                    timeLimit: [nil, 60, 600, 3_600][Int(random.next() % 4)]
                )
            )
        }
        return (jobs, usage)
    }

    @Test(arguments: SchedulingPolicy.names)
    func theOrderIsThePlainDefinitions(policyName: String) {
        let policy = Self.policy(policyName)
        for seed in UInt64(1)...200 {
            let (jobs, usage) = Self.randomQueue(seed: seed, count: Int(seed % 40) + 1)
            let order = Scheduler.ordered(jobs, policy: policy, usage: usage, now: Self.now).map(\.id)
            let expected = Self.referenceOrder(jobs, policy: policy, usage: usage)
            #expect(order == expected, "seed \(seed)")
            if order != expected { return }
        }
    }

    /// The protected jobs come first under shortest-first: the oldest of 2 or more GPUs and the two oldest
    /// stretched ones, the oldest first among equal submit times by id.
    @Test func protectedJobsAreTheOldestBigOneAndTwoOldestStretched() {
        let policy = Self.policy("shortest-first")
        let jobs = [
            F.job("b-big", gpus: 2, submittedAt: Self.now.milliseconds - 60_000, timeLimit: 3_600),
            F.job("a-big", gpus: 8, submittedAt: Self.now.milliseconds - 60_000, timeLimit: 7_200),
            F.job("s3", gpus: 1, submittedAt: Self.now.milliseconds - 3_000_000, timeLimit: 60),
            F.job("s1", gpus: 1, submittedAt: Self.now.milliseconds - 9_000_000, timeLimit: 600),
            F.job("s2", gpus: 1, submittedAt: Self.now.milliseconds - 5_000_000, timeLimit: 300),
            F.job("short", gpus: 1, submittedAt: Self.now.milliseconds - 1_000, timeLimit: 30),
        ]
        let order = Scheduler.ordered(jobs, policy: policy, usage: FairShareUsage(), now: Self.now).map(\.id.rawValue)
        // Protected (rank 0) by limit: s2 (300 s), s1 (600 s), a-big (7,200 s); s3 is the third stretched one.
        #expect(order == ["s2", "s1", "a-big", "short", "s3", "b-big"], "\(order)")
    }
}
