import HTTPKit

/// Durable submissions per second over HTTP: `clients` concurrent submitters, each waiting for its 201
/// (sent only after the job is committed) before submitting again.
public enum SubmitBench {
    struct Window: Sendable {
        var accepted = 0
        var errors = 0
        var latencies: [Double] = []
    }

    public static func run(endpoint: String, token: String, clients: Int, seconds: Double, runs: Int) async -> Figure {
        let client = BenchClient.make(endpoint: endpoint, token: token, concurrency: clients)
        var rates: [Double] = []
        var total = Window()
        for _ in 0..<max(1, runs) {
            let clock = ContinuousClock()
            let start = clock.now
            let window = await submitWindow(
                client,
                clients: clients,
                until: start + .milliseconds(Int64(seconds * 1000))
            )
            let elapsed = (clock.now - start).seconds
            rates.append(rounded(Double(window.accepted) / elapsed, 1))
            total.accepted += window.accepted
            total.errors += window.errors
            total.latencies += window.latencies
        }
        let latency = Stats(total.latencies)
        return Figure(
            name: "submit_http",
            unit: "jobs/s",
            samples: rates,
            notes: "\(clients) concurrent HTTP clients, POST /v1/jobs each acknowledged 201 after commit, "
                + "\(runs) windows of \(seconds) s",
            extra: [
                "accepted": Double(total.accepted), "errors": Double(total.errors),
                "latency_p50_ms": rounded(latency.median), "latency_p99_ms": rounded(latency.percentile(99)),
            ]
        )
    }

    static func submitWindow(
        _ client: HTTPClient,
        clients: Int,
        until deadline: ContinuousClock.Instant
    ) async
        -> Window
    {
        await withTaskGroup(of: Window.self) { group in
            for _ in 0..<max(1, clients) {
                group.addTask {
                    var window = Window()
                    let clock = ContinuousClock()
                    while clock.now < deadline {
                        let start = clock.now
                        do {
                            let response = try await client.execute(.post, "/v1/jobs", body: BenchClient.trivialJob)
                            if response.status == 201 { window.accepted += 1 } else { window.errors += 1 }
                        } catch {
                            window.errors += 1
                        }
                        window.latencies.append((clock.now - start).seconds * 1000)
                    }
                    return window
                }
            }
            var sum = Window()
            for await window in group {
                sum.accepted += window.accepted
                sum.errors += window.errors
                sum.latencies += window.latencies
            }
            return sum
        }
    }

    /// Submits `count` trivial jobs with `clients` concurrent submitters; returns how many were accepted.
    static func submitBatch(_ client: HTTPClient, count: Int, clients: Int) async -> Int {
        let ticket = Ticket()
        return await withTaskGroup(of: Int.self) { group in
            for _ in 0..<max(1, min(clients, count)) {
                group.addTask {
                    var accepted = 0
                    while ticket.next() < count {
                        let response = try? await client.execute(.post, "/v1/jobs", body: BenchClient.trivialJob)
                        if response?.status == 201 { accepted += 1 }
                    }
                    return accepted
                }
            }
            var accepted = 0
            for await count in group { accepted += count }
            return accepted
        }
    }
}
