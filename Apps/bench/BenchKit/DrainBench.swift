import ClusterWire
import HTTPKit

/// Trivial jobs fully executed per second through real agents: submit a batch, then wait until none is
/// QUEUED, ALLOCATED, STARTING or RUNNING. Expects a controller whose only jobs are the ones submitted here.
public enum DrainBench {
    public static func run(
        endpoint: String,
        token: String,
        jobs: Int,
        clients: Int,
        runs: Int,
        controllerPID: Int32?
    ) async throws -> Figure {
        let client = BenchClient.make(endpoint: endpoint, token: token, concurrency: clients)
        var rates: [Double] = []
        var extra: [String: Double] = [:]
        var failed = 0
        var cpuPerJob: [Double] = []
        for run in 0..<max(1, runs) {
            let clock = ContinuousClock()
            let start = clock.now
            let busy = ProcStat.machineBusySeconds()
            let accepted = await SubmitBench.submitBatch(client, count: jobs, clients: clients)
            let submitted = clock.now - start
            try await waitUntilIdle(client)
            let elapsed = (clock.now - start).seconds
            rates.append(rounded(Double(accepted) / elapsed, 1))
            if let busy, let after = ProcStat.machineBusySeconds(), accepted > 0 {
                cpuPerJob.append((after - busy) * 1000 / Double(accepted))
            }
            if run == 0 {
                extra["submit_phase_s"] = rounded(submitted.seconds)
                if let pid = controllerPID, let rss = ProcStat.rssKiB(pid) {
                    extra["controller_rss_mib_after_first_batch"] = rounded(Double(rss) / 1024, 1)
                }
            }
            failed += try await count(client, state: "FAILED")
        }
        extra["failed"] = Double(failed)
        // What one job costs the whole machine (controller, agents, supervisors, the job, this client, the kernel):
        // the drain's ceiling is the machine's cores over it (docs/PERFORMANCE.md).
        if !cpuPerJob.isEmpty { extra["machine_cpu_ms_per_job"] = rounded(Stats(cpuPerJob).median, 2) }
        if let pid = controllerPID, let rss = ProcStat.rssKiB(pid) {
            extra["controller_rss_mib_at_end"] = rounded(Double(rss) / 1024, 1)
        }
        return Figure(
            name: "jobs_executed",
            unit: "jobs/s",
            samples: rates,
            notes: "batches of \(jobs) `true` jobs (1 CPU each) from \(clients) HTTP submitters, timed from the "
                + "first submit until none is queued or running",
            extra: extra
        )
    }

    static func waitUntilIdle(_ client: HTTPClient) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(600)
        while clock.now < deadline {
            if try await count(client, state: "QUEUED,ALLOCATED,STARTING,RUNNING", limit: 1) == 0 { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchError("jobs still unfinished after 600 s")
    }

    static func count(_ client: HTTPClient, state: String, limit: Int = 1000) async throws -> Int {
        let response = try await client.execute(.get, "/v1/jobs?state=\(state)&limit=\(limit)")
        guard response.status == 200 else { throw BenchError("GET /v1/jobs: status \(response.status)") }
        return try WireJSON.decode(JobListResponse.self, from: response.body).jobs.count
    }
}
