import ClusterCore
import ClusterStore
import CorralSupport

/// Scheduling passes: a snapshot goes to the pure scheduler, and its whole plan is stored in one transaction.
extension ClusterState {
    /// What the scheduler reads: queued jobs (from the index, never a scan of all jobs), nodes, what live
    /// allocations hold with their owners and expected ends, the states of the pending jobs' dependencies,
    /// and the fair-share usage. Without `withHeld` the held allocations are left out: a pass reads them from
    /// the prepared nodes (`preparedForPass`).
    func snapshot(now: Timestamp, withHeld: Bool = true) -> ClusterSnapshot {
        let pending = queued.compactMap { jobs[$0] }
        var dependencyStates: [JobID: JobState] = [:]
        // By index, so that one field is read in place: a job is 560 bytes and its references.
        for index in pending.indices {
            for dependency in pending[index].spec.dependsOn where dependencyStates[dependency] == nil {
                dependencyStates[dependency] = dependencyState(dependency)
            }
        }
        var runningArrayTasks: [JobID: Int] = [:]
        var counted = Set<JobID>()
        for id in allocations.keys where counted.insert(id.job).inserted {
            // Through the index: `jobs[id]?.array` copied the whole job out of the dictionary to read one field.
            if let index = jobs.index(forKey: id.job), let task = jobs.values[index].array {
                runningArrayTasks[task.array, default: 0] += 1
            }
        }
        // A pass reads what allocations hold from the scheduler's ledger, kept by event (ClusterState+Held).
        let held = withHeld ? allocations.values.map(heldResources) : []
        return ClusterSnapshot(
            pending: pending,
            nodes: Array(nodes.values),
            held: held,
            jobStates: dependencyStates,
            usage: usage,
            runningArrayTasks: runningArrayTasks,
            now: now
        )
    }

    /// Plans with the prepared views of the nodes and what allocations hold (`preparedForPass`), and keeps them
    /// with the fits this pass added.
    func plan(_ snapshot: ClusterSnapshot) -> Schedule {
        var nodes: PreparedNodes? = preparedForPass(snapshot.now)
        let schedule = Scheduler.plan(snapshot, policy: settings.policy, prepared: &nodes)
        if let nodes { prepared = (nodesVersion, nodes) }
        return schedule
    }

    /// Asks for a pass soon: events arriving meanwhile share one pass. See `passDelay`. `lazy`: asked for by
    /// new jobs none of which can start now (`mayWaitForPass`), so that only their pending reasons can change.
    func requestSchedulingPass(lazy: Bool = false) {
        let now = ContinuousClock.now
        let idle = lastPassEnded.map { Self.seconds(now - $0) } ?? .infinity
        let delay = Self.passDelay(afterPassOf: lastPassSeconds, idleFor: idle, lazy: lazy)
        let due = now + .seconds(delay)
        // One already coming as soon serves this request too; a sooner one is asked for when needed.
        if let passDue, passDue <= due { return }
        passDue = due
        Task { [weak self] in
            if delay > 0 { try? await Task.sleep(until: due) }
            await self?.runRequestedPass(due: due)
        }
    }

    /// Runs the requested pass, unless another request moved it sooner (that pass ran, or will).
    func runRequestedPass(due: ContinuousClock.Instant) {
        guard passDue == due else { return }
        runSchedulingPass()
    }

    /// How long a requested pass waits, counted from the end of the last one's planning: 2 ms, so that events
    /// arriving together share it, or four times the last pass's planning (its snapshot, its plan and the pending
    /// reasons it writes back, what grows with the queue; not its commit) when that is longer, at most half a
    /// second. The state's actor then spends at most a fifth of its time planning, whatever the queue's length,
    /// and submissions and agents' reports keep the rest (issue 16: a pass over 5,000 queued jobs after each batch
    /// of submissions halved their rate). When the last pass ended longer ago than that, the pass runs at once
    /// (after the actor's current turn): a job submitted to an idle cluster does not wait to be batched with
    /// events that are not coming.
    ///
    /// A lazy pass (new jobs that cannot start now) waits 50 ms, or twenty times the last planning, at most 30
    /// seconds (Slurm's full passes come every minute): it can only change their pending reasons (QUEUED jobs
    /// show `Resources` until a pass says otherwise), and a full cluster under a stream of submissions then
    /// spends a twentieth of the actor's time on passes, not a fifth (with at most 5 s, 170,000 queued jobs, 0.45 s
    /// of planning, took a tenth). Any release, node change or other event asks for a pass of the first kind,
    /// which comes sooner.
    static func passDelay(afterPassOf seconds: Double, idleFor idle: Double, lazy: Bool = false) -> Double {
        let spacing = lazy ? min(30, max(0.05, 20 * seconds)) : min(0.5, max(0.002, 4 * seconds))
        return max(0, spacing - idle)
    }

    /// Whether the pass that new jobs ask for may be a lazy one: none of them may start now, and the pass can
    /// change nothing but their pending reasons. A job with dependencies never waits (one that already failed
    /// fails it at the next pass, held or not); a held job may not start; another may not when it asks for more
    /// GPUs, CPUs or memory than any one schedulable node has free after the last pass
    /// (`PreparedNodes.largestFree`), under a policy without preemption (a preemptor needs no free room).
    /// Unknown room (no pass yet, one that stopped early, or a node stored since) counts as room.
    func mayWaitForPass(_ newJobs: some Sequence<Job>) -> Bool {
        guard let after = roomAfterPass, after.version == nodesVersion,
            !settings.policy.queues.values.contains(where: \.preemptible)
        else { return false }
        return newJobs.allSatisfy {
            $0.spec.dependsOn.isEmpty && ($0.hold != nil || !$0.spec.resources.fits(in: after.room))
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double { seconds(.now - start) }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    func runSchedulingPass() {
        passDue = nil
        // Known again only after this pass commits: a pass that stops early (an empty queue, a failed commit)
        // leaves no room measured, and the next new jobs ask for a prompt pass.
        roomAfterPass = nil
        guard !queued.isEmpty else { return }
        let started = ContinuousClock.now
        let schedule = plan(snapshot(now: clock.now(), withHeld: false))
        lastPassSeconds = Self.seconds(since: started)
        passDurations.observe(lastPassSeconds)
        // Before the commit: a pass that the commit itself asks for (a dependency failed) is spaced from this one.
        lastPassEnded = .now
        var changes = ChangeSet()
        // A job whose dependency ended without succeeding can never run: it fails, saying which and why.
        for (id, dependency) in schedule.failedDependencies.sorted(by: { $0.key < $1.key }) {
            guard let state = dependencyState(dependency) else { continue }
            stage(.dependencyFailed(dependency, state), job: id, in: &changes)
        }
        // Preemption: each victim is asked to stop, and goes back to the queue once its processes are gone.
        // A preemptor keeps its victims' names while it waits for them (a later pass counts them as leaving).
        var plans = preemptionPlans.filter { schedule.pending[$0.key] == .preempting }
        for preemption in schedule.preemptions {
            plans[preemption.job] = preemption.victims
            for victim in preemption.victims { stage(.preempt(by: preemption.job), job: victim, in: &changes) }
            log.info(
                "job \(preemption.job) preempts \(preemption.victims.map(\.rawValue).joined(separator: ", ")) "
                    + "on \(preemption.node)"
            )
        }
        for assignment in schedule.assignments {
            stage(.placed(node: assignment.node, gpus: assignment.gpuIndices), job: assignment.job, in: &changes)
        }
        var portsTaken: [NodeID: Set<Int>] = [:]
        for gang in schedule.gangAssignments {
            guard let first = gang.ranks.first else { continue }
            if portsTaken[first.node] == nil { portsTaken[first.node] = gangPorts(on: first.node) }
            guard let port = settings.gangPorts.first(where: { !portsTaken[first.node]!.contains($0) }) else {
                log.warning(
                    "no free gang port on \(first.node) for job \(gang.job): all of \(settings.gangPorts) are taken"
                )
                continue
            }
            portsTaken[first.node]!.insert(port)
            stage(.placedGang(gang.ranks, port: port), job: gang.job, in: &changes)
        }
        do {
            try commit(changes)
        } catch {
            // Nothing changed in memory; the next event asks for another pass.
            log.error("cannot store a scheduling plan of \(schedule.assignments.count) placement(s): \(error)")
            return
        }
        preemptionPlans = plans
        // Read after the commit: the placements of this pass hold their resources already.
        roomAfterPass = prepared.flatMap { kept in kept.nodes.largestFree.map { (kept.version, $0) } }
        // One lookup per pending job, and a write only where the reason changed (most stay as they were). It
        // grows with the queue as planning does, and counts as planning for the spacing of passes.
        let reasonsStarted = ContinuousClock.now
        for (id, reason) in schedule.pending {
            guard let index = jobs.index(forKey: id), jobs.values[index].state == .queued,
                jobs.values[index].pendingReason != reason
            else { continue }
            jobs.values[index].pendingReason = reason
        }
        lastPassSeconds += Self.seconds(since: reasonsStarted)
        wakeAfterBackoff(schedule)
    }

    /// A job waiting out its retry backoff needs a pass when the backoff ends, whatever else happens (or not).
    func wakeAfterBackoff(_ schedule: Schedule) {
        let now = clock.now()
        var earliest: Timestamp?
        for (id, reason) in schedule.pending where reason == .backoff {
            guard let notBefore = jobs[id]?.notBefore, notBefore > now else { continue }
            earliest = min(earliest ?? notBefore, notBefore)
        }
        guard let earliest, backoffWake.map({ $0 > earliest || $0 <= now }) ?? true else { return }
        backoffWake = earliest
        let wait = earliest - now
        Task { [weak self] in
            try? await Task.sleep(for: wait + .milliseconds(5))
            await self?.requestSchedulingPass()
        }
    }
}

extension ClusterState {
    /// The rendezvous ports of gangs whose rank 0 runs on the node now.
    func gangPorts(on node: NodeID) -> Set<Int> {
        var ports = Set<Int>()
        for id in allocationsByNode[node] ?? [] where id.rank == 0 {
            if let port = jobs[id.job]?.liveAttempt?.masterPort { ports.insert(port) }
        }
        return ports
    }
}
