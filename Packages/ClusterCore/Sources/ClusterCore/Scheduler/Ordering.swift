/// The order in which a pass considers jobs: queue priority, then job priority (both higher first), then
/// fair share (less recent decayed GPU use first), then submit time, then array index (tasks of one array run
/// in index order), then id, so the order is total.
struct OrderKey {
    var queuePriority: Int
    var priority: Int
    var usage: Double
    var submittedAt: Timestamp
    var arrayIndex: Int
    var id: JobID

    init(_ job: Job, policy: SchedulingPolicy, usage: Double) {
        queuePriority = policy.queue(named: job.spec.queue).priority
        priority = job.spec.priority
        self.usage = usage
        submittedAt = job.submittedAt
        arrayIndex = job.array?.index ?? -1
        id = job.id
    }

    static func comesFirst(_ a: OrderKey, _ b: OrderKey) -> Bool {
        if a.queuePriority != b.queuePriority { return a.queuePriority > b.queuePriority }
        if a.priority != b.priority { return a.priority > b.priority }
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
        now: Timestamp
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
        let order = keys.indices.sorted { OrderKey.comesFirst(keys[$0], keys[$1]) }
        return order.map { jobs[$0] }
    }
}
