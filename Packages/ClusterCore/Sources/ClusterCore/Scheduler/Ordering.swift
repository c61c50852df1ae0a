/// The order in which a pass considers jobs: queue priority, then job priority (both higher first), then
/// fair share (less recent decayed GPU use first), then submit time, then array index (tasks of one array run
/// in index order), then id, so the order is total.
struct OrderKey {
    var queuePriority: Int
    var priority: Int
    /// Under `shortestFirst`: 0 for a protected job (see `protected`), else 1; protected ones come first.
    var rank = 1
    /// Seconds, under `shortestFirst` (else 0): shorter jobs first, after the priorities.
    var limit: Int
    var usage: Double
    var submittedAt: Timestamp
    var arrayIndex: Int
    var id: JobID

    init(_ job: Job, policy: SchedulingPolicy, usage: Double) {
        queuePriority = policy.queue(named: job.spec.queue).priority
        priority = job.spec.priority
        limit = policy.ordering == .shortestFirst ? policy.timeLimit(of: job.spec) : 0
        self.usage = usage
        submittedAt = job.submittedAt
        arrayIndex = job.array?.index ?? -1
        id = job.id
    }

    static func comesFirst(_ a: OrderKey, _ b: OrderKey) -> Bool {
        if a.queuePriority != b.queuePriority { return a.queuePriority > b.queuePriority }
        if a.priority != b.priority { return a.priority > b.priority }
        if a.rank != b.rank { return a.rank < b.rank }
        if a.limit != b.limit { return a.limit < b.limit }
        if a.usage != b.usage { return a.usage < b.usage }
        if a.submittedAt != b.submittedAt { return a.submittedAt < b.submittedAt }
        if a.arrayIndex != b.arrayIndex { return a.arrayIndex < b.arrayIndex }
        return a.id < b.id
    }
}

extension Scheduler {
    /// The jobs in the order a pass considers them (see `OrderKey`).
    public static func ordered(
        _ jobs: [Job],
        policy: SchedulingPolicy,
        usage: FairShareUsage,
        now: Timestamp,
        protected chosen: Set<JobID>? = nil
    ) -> [Job] {
        var usageByUser: [String: Double] = [:]
        var keys: [OrderKey] = []
        keys.reserveCapacity(jobs.count)
        for job in jobs {
            let value: Double
            if let known = usageByUser[job.user] {
                value = known
            } else {
                value = usage.value(for: job.user, at: now)
                usageByUser[job.user] = value
            }
            keys.append(OrderKey(job, policy: policy, usage: value))
        }
        if policy.ordering == .shortestFirst {
            if let chosen {
                for index in keys.indices where chosen.contains(keys[index].id) { keys[index].rank = 0 }
            } else {
                for index in protected(jobs, policy: policy, now: now) { keys[index].rank = 0 }
            }
        }
        let order = keys.indices.sorted { OrderKey.comesFirst(keys[$0], keys[$1]) }
        return order.map { jobs[$0] }
    }

    /// Shortest-first starves what is long or large unless something protects it. Protected, so considered
    /// before the short jobs (and so the first to get the backfill reservation when it cannot start): the
    /// oldest waiting job of at least 2 GPUs, and the (at most 2) oldest jobs whose expansion factor
    /// (wait + limit) / limit has reached 3.
    static func protected(_ jobs: [Job], policy: SchedulingPolicy, now: Timestamp) -> [Int] {
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
        return chosen
    }
}
