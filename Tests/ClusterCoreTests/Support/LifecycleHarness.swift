import ClusterCore

/// The controller's part in miniature, for lifecycle tests without SQLite or sockets: one job and the
/// allocations it holds. `apply` runs an event through `JobLifecycle` and carries the effects out as the
/// controller's state actor does (hold, release, stop, renew); `deliver` is the long poll handing the launch out.
struct LifecycleHarness {
    var job: Job
    var allocations: [AllocationID: Allocation] = [:]
    var now = Timestamp(milliseconds: 1_000_000)
    var policy = LifecyclePolicy(infrastructureRetries: 2)
    /// Every record stored so far, oldest first.
    var records: [JobEventRecord] = []
    var woken: [NodeID] = []
    var passes = 0

    static let node = NodeID("gpu-1")

    init(_ spec: JobSpec = JobSpec(command: ["train"], resources: Resources(gpus: 2, cpus: 4, memory: 1 << 30))) {
        job = Job(id: JobID("job1"), spec: spec, user: "alice", submittedAt: Timestamp(milliseconds: 1_000_000))
    }

    var allocation: Allocation? {
        job.liveAttempt.flatMap { allocations[AllocationID(job: job.id, attempt: $0.number)] }
    }

    @discardableResult
    mutating func apply(_ event: LifecycleEvent) -> LifecycleOutcome {
        let outcome = JobLifecycle.handle(
            event,
            job: job,
            context: LifecycleContext(now: now, policy: policy, allocation: allocation)
        )
        if outcome.storage != .none { job = outcome.job }
        records += outcome.records
        for effect in outcome.effects {
            switch effect {
            case .hold(let allocation): allocations[allocation.id] = allocation
            case .release(let id): allocations[id] = nil
            case .stop(let id):
                let requested = allocations[id]?.stopRequestedAt ?? now
                allocations[id]?.stopRequestedAt = requested
                allocations[id]?.stopDelivered = false
            case .renewLease(let id):
                allocations[id]?.delivered = true
                allocations[id]?.leaseRenewedAt = now
            case .redeliver(let id): allocations[id]?.delivered = false
            case .wake(let node): woken.append(node)
            case .requestPass: passes += 1
            }
        }
        return outcome
    }

    mutating func deliver() {
        for id in allocations.keys { allocations[id]?.delivered = true }
    }

    mutating func advance(_ duration: Duration) { now = now + duration }

    // MARK: Reaching a state the way the cluster does

    static func queued(_ spec: JobSpec? = nil) -> LifecycleHarness {
        var harness = spec.map(LifecycleHarness.init) ?? LifecycleHarness()
        harness.apply(.submitted)
        return harness
    }

    static func allocated(_ spec: JobSpec? = nil, delivered: Bool = false) -> LifecycleHarness {
        var harness = queued(spec)
        harness.apply(.placed(node: node, gpus: [0, 1]))
        if delivered { harness.deliver() }
        return harness
    }

    static func starting(_ spec: JobSpec? = nil) -> LifecycleHarness {
        var harness = allocated(spec, delivered: true)
        harness.apply(.accepted(attempt: 1))
        return harness
    }

    static func running(_ spec: JobSpec? = nil) -> LifecycleHarness {
        var harness = starting(spec)
        harness.apply(.started(attempt: 1, pid: 4242))
        return harness
    }

    static func lost(_ spec: JobSpec? = nil) -> LifecycleHarness {
        var harness = running(spec)
        harness.apply(.nodeLost(node, reason: "node gpu-1 stopped sending heartbeats"))
        return harness
    }

    static func exited(_ code: Int32) -> LifecycleEvent {
        .ended(attempt: 1, AttemptEnd(.exited, exit: JobExit(code: code)))
    }
}

extension JobSpec {
    static func retrying(_ retries: Int, timeLimit: Int? = nil) -> JobSpec {
        JobSpec(
            command: ["train"],
            resources: Resources(gpus: 2, cpus: 4, memory: 1 << 30),
            timeLimit: timeLimit,
            maxRetries: retries
        )
    }
}
