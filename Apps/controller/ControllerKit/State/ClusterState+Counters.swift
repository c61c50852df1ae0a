import ClusterCore

/// The counters and histograms of /metrics (issue 17), after the gauges of `ClusterState+Metrics.swift`:
/// what an SRE wires alerts to (the rate of submissions and failures, queue wait p95, scheduling latency, idle
/// GPUs while jobs wait). docs/operations.md has example alert rules, checked with promtool in the tests.
extension ClusterState {
    func renderCounters(into out: inout PrometheusText) {
        let metrics = jobMetrics
        out.family("corral_job_submissions_total", "counter", "Jobs submitted (each array task counts), by queue.")
        for queue in metrics.submissions.keys.sorted() {
            out.sample("corral_job_submissions_total", ["queue": queue], metrics.submissions[queue] ?? 0)
        }
        out.family(
            "corral_jobs_ended_total",
            "counter",
            "Jobs that ended (SUCCEEDED, FAILED, CANCELED, LOST for good), by why."
        )
        for key in metrics.ended.keys.sorted(by: { ($0.state, $0.reason) < ($1.state, $1.reason) }) {
            out.sample("corral_jobs_ended_total", ["state": key.state, "reason": key.reason], metrics.ended[key] ?? 0)
        }
        out.family("corral_job_retries_total", "counter", "Retries, by budget: job (max_retries) or node_fault.")
        for budget in ["job", "node_fault"] {
            out.sample("corral_job_retries_total", ["budget": budget], metrics.retries[budget] ?? 0)
        }
        out.family("corral_job_preemptions_total", "counter", "Jobs preempted for a higher tier, by their queue.")
        for queue in metrics.preemptions.keys.sorted() {
            out.sample("corral_job_preemptions_total", ["queue": queue], metrics.preemptions[queue] ?? 0)
        }
        out.family("corral_job_requeues_total", "counter", "Jobs put back in the queue by corral requeue, by queue.")
        for queue in metrics.requeues.keys.sorted() {
            out.sample("corral_job_requeues_total", ["queue": queue], metrics.requeues[queue] ?? 0)
        }
        out.family("corral_agent_reports_total", "counter", "Reports from agents, by kind.")
        for kind in ["heartbeat", "register", "status"] {
            out.sample("corral_agent_reports_total", ["kind": kind], agentReports[kind] ?? 0)
        }
        out.family(
            "corral_queue_wait_seconds",
            "histogram",
            "From submission to the first placement, by queue."
        )
        for queue in metrics.queueWait.keys.sorted() {
            out.histogram("corral_queue_wait_seconds", ["queue": queue], metrics.queueWait[queue]!)
        }
        out.family(
            "corral_job_submit_to_running_seconds",
            "histogram",
            "From submission to the first attempt's process running, by queue."
        )
        for queue in metrics.submitToRunning.keys.sorted() {
            out.histogram("corral_job_submit_to_running_seconds", ["queue": queue], metrics.submitToRunning[queue]!)
        }
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
        out.family("corral_jobs_idle", "gauge", "Running jobs whose GPUs are flagged idle, by queue.")
        out.family("corral_idle_job_gpus", "gauge", "GPUs held by jobs flagged idle, by queue.")
        for queue in settings.policy.queues.keys.sorted() {
            out.sample("corral_jobs_idle", ["queue": queue], idleJobs[queue] ?? 0)
            out.sample("corral_idle_job_gpus", ["queue": queue], idleGPUs[queue] ?? 0)
        }
    }
}
