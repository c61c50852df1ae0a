/// The scheduler: a pure function from a snapshot of the cluster to a plan. It reads nothing and changes
/// nothing; the controller commits the plan. docs/scheduling.md describes the policy:
///
/// - order (`Ordering.swift`): queue priority, job priority, fair share, submit time, id; under shortest-first,
///   protected jobs, then the shortest time limit, before fair share;
/// - fit (`Feasibility.swift`): ready, undrained nodes matching the queue's selector, the job's labels and
///   gpu_type, with enough free healthy GPUs, CPUs and memory;
/// - placement (`Ranking.swift`, `DeviceFit.swift`): best fit (or end time first, under shortest-first, with a
///   draining node), then adjacent GPUs;
/// - preemption (`Planner+Preemption.swift`): lower-tier preemptible jobs stopped for a job that fits nowhere;
/// - EASY backfill (`Backfill.swift`), per-user queue limits and `depends_on` (`Planner.swift`);
/// - explain (`Explain.swift`): one line per node.
public enum Scheduler {
    /// One pass: every pending job is either assigned or given exactly one reason.
    public static func plan(_ snapshot: ClusterSnapshot, policy: SchedulingPolicy) -> Schedule {
        var none: PreparedNodes?
        return plan(snapshot, policy: policy, prepared: &none)
    }

    /// `plan` with node views and static fits kept across passes (issue 16): `prepared` must be of the
    /// snapshot's nodes, and comes back with the fits of the classes this pass met. The plan is the same.
    /// Prepared nodes that keep the held allocations (`trackHeld`) are read instead of `snapshot.held`, which
    /// must then be empty (checked in debug builds): the plan is the one the snapshot with those allocations
    /// gives, except that an allocation giving neither its end nor its allocation time counts as allocated
    /// when it was put in, not at this pass.
    public static func plan(
        _ snapshot: ClusterSnapshot,
        policy: SchedulingPolicy,
        prepared: inout PreparedNodes?
    ) -> Schedule {
        assert(prepared?.tracksHeld != true || snapshot.held.isEmpty, "held allocations given twice")
        var planner = Planner(snapshot, policy: policy, prepared: prepared)
        defer { prepared = planner.prepared }
        // Protection (shortest-first) goes to jobs that could start now but for resources: not to one waiting
        // for a dependency, its backoff or its array's limit, which would hold a slot for nothing.
        var protectedJobs: Set<JobID> = []
        if policy.ordering == .shortestFirst {
            protectedJobs = snapshot.pending.withUnsafeBufferPointer { pending in
                var runnable: [Int] = []
                if let base = pending.baseAddress {
                    for index in pending.indices where isRunnable(base + index, snapshot) { runnable.append(index) }
                }
                return Set(
                    protected(pending, among: runnable, policy: policy, now: snapshot.now).map { pending[$0].id }
                )
            }
        }
        planner.protectedJobs = protectedJobs
        let order = order(
            snapshot.pending,
            policy: policy,
            usage: snapshot.usage,
            now: snapshot.now,
            protected: protectedJobs
        )
        return planner.run(snapshot.pending, in: order)
    }

    /// Not held, nor held back by its backoff, a dependency or its array's `%limit`. Read in place: a job is a
    /// large value, and copying each of tens of thousands per pass was a tenth of the pass (issue 16).
    static func isRunnable(_ job: UnsafePointer<Job>, _ snapshot: ClusterSnapshot) -> Bool {
        if job.pointee.hold != nil { return false }
        if let notBefore = job.pointee.notBefore, notBefore > snapshot.now { return false }
        for dependency in job.pointee.spec.dependsOn where snapshot.jobStates[dependency] != .succeeded {
            return false
        }
        if let task = job.pointee.array, let limit = task.limit,
            snapshot.runningArrayTasks[task.array, default: 0] >= limit
        {
            return false
        }
        return true
    }

    /// The first API, kept for callers that have no policy yet: `plan` with the standard policy, no fair-share
    /// usage, and the dependencies' states read through `jobState`.
    /// - Parameters:
    ///   - pending: QUEUED jobs, in any order.
    ///   - nodes: every known node.
    ///   - held: resources held by live allocations.
    ///   - jobState: the state of another job, for `depends_on` (nil when unknown).
    public static func computeSchedule(
        pending: [Job],
        nodes: [Node],
        held: [HeldResources],
        jobState: (JobID) -> JobState?,
        now: Timestamp
    ) -> Schedule {
        var states: [JobID: JobState] = [:]
        for job in pending {
            for dependency in job.spec.dependsOn where states[dependency] == nil {
                if let state = jobState(dependency) { states[dependency] = state }
            }
        }
        let snapshot = ClusterSnapshot(pending: pending, nodes: nodes, held: held, jobStates: states, now: now)
        return plan(snapshot, policy: .standard)
    }

    /// Job priority (higher first), then earlier submission, then id: the order within one queue when no
    /// user has recent usage.
    public static func comesFirst(_ a: Job, _ b: Job) -> Bool {
        if a.spec.priority != b.spec.priority { return a.spec.priority > b.spec.priority }
        if a.submittedAt != b.submittedAt { return a.submittedAt < b.submittedAt }
        return a.id < b.id
    }

    /// Whether a node matches a spec's static requirements (type, labels, enough hardware when empty),
    /// whatever its status. The queue's selector is not checked here; see `explain`.
    public static func matches(_ spec: JobSpec, node: Node) -> Bool {
        let requirement = Requirement(spec: spec, queue: QueueConfig(name: spec.queue))
        return Feasibility.labelProblem(requirement, node: node, queueName: spec.queue) == nil
            && Feasibility.capacityProblem(requirement, resources: spec.resources, view: NodeView(node)) == nil
    }
}
