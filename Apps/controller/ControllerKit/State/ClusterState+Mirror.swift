import ClusterCore
import ClusterStore

/// A standby's copy of the cluster (issue 19): the same indexes as the leader's, read from the database the
/// leader writes through, so that a standby answers reads (jobs, nodes, queues, explain) with the leader's own
/// code. It writes nothing and runs nothing (no tick, no pass, no liveness): it is read again, whole and from
/// one state of the database, when a read that needs it finds it a second old (`refreshMirror`). A job's own
/// reads do not need it: they read the job from the database (`anyJob`, `arrayTasks(of:)`). The leader commits
/// before it answers, so a copy read after a client's request was answered shows what that request did.
///
/// What only the leader's memory holds is not in it: heartbeats' figures (GPU utilization, the time of the last
/// heartbeat, which a node's row has from its last stored change), stage caches, preemption plans, fair share.
extension ClusterState {
    /// How old the copy may be when a read that needs it comes (nodes, queues, explain, an end of an id): what
    /// the leader did shows on a standby within this, or within four times the last reading's length when that
    /// is longer (a large cluster: 0.37 s for 20,000 queued jobs), so that reading the copy takes at most a fifth
    /// of the standby's time however often it is asked.
    static let mirrorMaxAge = Duration.seconds(1)

    /// Reads the copy again when it is older than that. On this actor, whole: reads that come meanwhile wait for
    /// it and then find it fresh.
    func refreshMirror() throws {
        guard mirror else { return }
        if let at = mirroredAt, ContinuousClock.now - at < max(Self.mirrorMaxAge, mirrorReadTook * 4) { return }
        try reloadMirror()
    }

    /// Empties the indexes and reads them again from one state of the database.
    func reloadMirror() throws {
        precondition(mirror, "only a standby's copy is read again: the leader's memory is the truth it commits")
        let started = ContinuousClock.now
        jobs = [:]
        jobEnds = JobEnds()
        stateCounts = [:]
        finishedOrder = []
        finishedHead = 0
        storedStates = [:]
        queued = []
        nodes = [:]
        allocations = [:]
        allocationsByNode = [:]
        arrayTasks = [:]
        arrayLeft = [:]
        prepared = nil
        roomAfterPass = nil
        nodesVersion += 1
        try database.readingOneState { try loadStored(now: clock.now()) }
        mirroredAt = started
        mirrorReadTook = ContinuousClock.now - started
        mirrorReloadDurations.observe(Double(mirrorReadTook.milliseconds) / 1000)
    }

    /// A standby's /metrics: that it does not lead, and what its copy costs (Prometheus scrapes every controller;
    /// the cluster's figures come from the leader alone, so that no sum counts them twice).
    func mirrorMetrics() -> String {
        var out = PrometheusText()
        out.family("corral_controller_leader", "gauge", "1 on the controller that leads, 0 on a standby.")
        out.sample("corral_controller_leader", [:], 0)
        out.family(
            "corral_standby_copy_read_seconds",
            "histogram",
            "Readings of this standby's copy of the cluster from the database (when a read finds it a second old, or four times the last reading)."
        )
        out.histogram("corral_standby_copy_read_seconds", [:], mirrorReloadDurations)
        return out.text
    }
}
