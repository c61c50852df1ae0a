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
    /// The job's position in the pass's array: its id, compared last, is read from there, so a key holds no
    /// reference and sorting tens of thousands of them copies no string (issue 16).
    var position: Int

    /// Read in place, with the queue's figures looked up once per run of jobs of one queue (`QueueFigures`):
    /// copying each job, its spec or its queue's configuration was most of the ordering (issue 16).
    init(_ job: UnsafePointer<Job>, at position: Int, queue: QueueFigures, policy: SchedulingPolicy, usage: Double) {
        queuePriority = queue.priority
        priority = job.pointee.spec.priority
        limit = policy.ordering == .shortestFirst ? job.pointee.spec.timeLimit ?? queue.timeLimit : 0
        self.usage = usage
        submittedAt = job.pointee.submittedAt
        arrayIndex = job.pointee.array?.index ?? -1
        self.position = position
    }

    static func comesFirst(_ a: OrderKey, _ b: OrderKey, in jobs: [Job]) -> Bool {
        if a.queuePriority != b.queuePriority { return a.queuePriority > b.queuePriority }
        if a.priority != b.priority { return a.priority > b.priority }
        if a.rank != b.rank { return a.rank < b.rank }
        if a.limit != b.limit { return a.limit < b.limit }
        if a.usage != b.usage { return a.usage < b.usage }
        if a.submittedAt != b.submittedAt { return a.submittedAt < b.submittedAt }
        if a.arrayIndex != b.arrayIndex { return a.arrayIndex < b.arrayIndex }
        return jobs[a.position].id < jobs[b.position].id
    }
}

/// What ordering reads of a job's queue: its priority, and the time limit of a job that gives none.
struct QueueFigures {
    var name: String
    var priority: Int
    var timeLimit: Int

    init(_ queue: QueueConfig, policy: SchedulingPolicy) {
        name = queue.name
        priority = queue.priority
        timeLimit = policy.timeLimit(of: queue.name)
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
        order(jobs, policy: policy, usage: usage, now: now, protected: chosen).map { jobs[$0] }
    }

    /// `ordered` as positions in `jobs`: a pass walks the snapshot's own array in this order rather than a
    /// sorted copy of every pending job (issue 16: the copies were a fifth of a pass over a long queue).
    static func order(
        _ jobs: [Job],
        policy: SchedulingPolicy,
        usage: FairShareUsage,
        now: Timestamp,
        protected chosen: Set<JobID>? = nil
    ) -> [Int] {
        var usageByUser: [String: Double] = [:]
        var keys: [OrderKey] = []
        keys.reserveCapacity(jobs.count)
        var queue: QueueFigures?
        // In place: an array's subscript and iterator hand out copies, and a job is a large value.
        jobs.withUnsafeBufferPointer { jobs in
            guard let base = jobs.baseAddress else { return }
            for position in jobs.indices {
                let job = base + position
                let value: Double
                if let known = usageByUser[job.pointee.user] {
                    value = known
                } else {
                    value = usage.value(for: job.pointee.user, at: now)
                    usageByUser[job.pointee.user] = value
                }
                if queue?.name != job.pointee.spec.queue {
                    queue = QueueFigures(policy.queue(named: job.pointee.spec.queue), policy: policy)
                }
                keys.append(OrderKey(job, at: position, queue: queue!, policy: policy, usage: value))
            }
        }
        if policy.ordering == .shortestFirst {
            if let chosen {
                for index in keys.indices where chosen.contains(jobs[index].id) { keys[index].rank = 0 }
            } else {
                for index in protected(jobs, among: jobs.indices, policy: policy, now: now) { keys[index].rank = 0 }
            }
        }
        keys.sort { OrderKey.comesFirst($0, $1, in: jobs) }
        return keys.map(\.position)
    }

    /// Shortest-first starves what is long or large unless something protects it. Protected, so considered
    /// before the short jobs (and so the first to get the backfill reservation when it cannot start): the
    /// oldest waiting job of at least 2 GPUs, and the (at most 2) oldest jobs whose expansion factor
    /// (wait + limit) / limit has reached 3. Oldest: earliest submitted, then smallest id. One scan, no sort
    /// (a pass over 50,000 queued jobs sorted them all for these three).
    /// `candidates` are positions in `jobs`, and so are the protected ones returned.
    static func protected(
        _ jobs: [Job],
        among candidates: some Collection<Int>,
        policy: SchedulingPolicy,
        now: Timestamp
    ) -> [Int] {
        jobs.withUnsafeBufferPointer { protected($0, among: candidates, policy: policy, now: now) }
    }

    static func protected(
        _ jobs: UnsafeBufferPointer<Job>,
        among candidates: some Collection<Int>,
        policy: SchedulingPolicy,
        now: Timestamp
    ) -> [Int] {
        func older(_ a: Int, _ b: Int) -> Bool {
            if jobs[a].submittedAt != jobs[b].submittedAt { return jobs[a].submittedAt < jobs[b].submittedAt }
            return jobs[a].id < jobs[b].id
        }
        var big: Int?
        // The three oldest stretched ones: the big one may be among them, and is not counted twice.
        var stretched: [Int] = []
        for index in candidates {
            if jobs[index].spec.resources.gpus * jobs[index].spec.nodes >= 2, big.map({ older(index, $0) }) ?? true {
                big = index
            }
            let limit = Double(max(policy.timeLimit(of: jobs[index].spec), 10))
            let waited = Double((now - jobs[index].submittedAt).milliseconds) / 1000
            guard (waited + limit) / limit >= 3 else { continue }
            if stretched.count == 3, !older(index, stretched[2]) { continue }
            let at = stretched.firstIndex { older(index, $0) } ?? stretched.count
            stretched.insert(index, at: at)
            if stretched.count > 3 { stretched.removeLast() }
        }
        var chosen: [Int] = big.map { [$0] } ?? []
        for index in stretched where chosen.count < (big == nil ? 2 : 3) && index != big { chosen.append(index) }
        return chosen
    }
}
