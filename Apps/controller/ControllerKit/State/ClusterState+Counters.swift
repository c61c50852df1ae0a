import ClusterCore

/// The counters and histograms of /metrics (issue 17), after the gauges of `ClusterState+Metrics.swift`:
/// what an SRE wires alerts to (the rate of submissions and failures, queue wait p95, scheduling latency, idle
/// GPUs while jobs wait). docs/operations.md has example alert rules, checked with promtool in the tests.
extension ClusterState {
    func renderCounters(into out: inout PrometheusText) {
        let metrics = jobMetrics
        out.family(
            "corral_job_submissions_total",
            "counter",
            "Jobs submitted (each array task counts), by queue.",
            by: "queue",
            metrics.submissions
        )
        out.family(
            "corral_jobs_ended_total",
            "counter",
            "Jobs that ended (SUCCEEDED, FAILED, CANCELED, LOST for good), by why."
        )
        for key in metrics.ended.keys.sorted(by: { ($0.state, $0.reason) < ($1.state, $1.reason) }) {
            out.sample("corral_jobs_ended_total", ["state": key.state, "reason": key.reason], metrics.ended[key] ?? 0)
        }
        out.family(
            "corral_job_retries_total",
            "counter",
            "Retries, by budget: job (max_retries) or node_fault.",
            by: "budget",
            metrics.retries,
            keys: ["job", "node_fault"]
        )
        out.family(
            "corral_job_preemptions_total",
            "counter",
            "Jobs preempted for a higher tier, by their queue.",
            by: "queue",
            metrics.preemptions
        )
        out.family(
            "corral_job_requeues_total",
            "counter",
            "Jobs put back in the queue by corral requeue, by queue.",
            by: "queue",
            metrics.requeues
        )
        out.family(
            "corral_agent_reports_total",
            "counter",
            "Reports from agents, by kind.",
            by: "kind",
            agentReports,
            keys: ["heartbeat", "register", "status"]
        )
        out.histograms(
            "corral_queue_wait_seconds",
            "From submission to the first placement, by queue.",
            by: "queue",
            metrics.queueWait
        )
        out.histograms(
            "corral_job_submit_to_running_seconds",
            "From submission to the first attempt's process running, by queue.",
            by: "queue",
            metrics.submitToRunning
        )
        out.family("corral_scheduling_pass_duration_seconds", "histogram", "Time the scheduler took to plan a pass.")
        out.histogram("corral_scheduling_pass_duration_seconds", [:], passDurations)
        renderIdle(into: &out)
    }

    /// Idle jobs and the GPUs they hold, by queue; and GPUs free while jobs wait (for "GPUs idle while jobs
    /// wait" alerts, with the pending gauge).
    func renderIdle(into out: inout PrometheusText) {
        var idleJobs: [String: Int] = [:]
        var idleGPUs: [String: Int] = [:]
        for id in Set(allocations.keys.map(\.job)) {
            guard let job = jobs[id], job.state == .running, job.idle != nil else { continue }
            idleJobs[job.spec.queue, default: 0] += 1
            idleGPUs[job.spec.queue, default: 0] += job.spec.resources.gpus * max(job.spec.nodes, 1)
        }
        // Each family's samples right after its header (interleaving two families is not the format).
        let queues = settings.policy.queues.keys.sorted()
        out.family(
            "corral_jobs_idle",
            "gauge",
            "Running jobs whose GPUs are flagged idle, by queue.",
            by: "queue",
            idleJobs,
            keys: queues
        )
        out.family(
            "corral_idle_job_gpus",
            "gauge",
            "GPUs held by jobs flagged idle, by queue.",
            by: "queue",
            idleGPUs,
            keys: queues
        )
    }
}
