import ClusterWire
import Glibc
import HTTPKit
import Synchronization

/// One process playing `nodes` agents against a real controller (DESIGN.md "Controller <-> agent").
///
/// Every node long-polls for its assignments on a connection of its own, as a real agent does (all of them on
/// one thread: `LongPollMux`). With `pollers` below the node count, only the first `pollers` nodes long-poll and the others poll with wait=0 right after each
/// heartbeat, which sees work up to a heartbeat late.
public struct FleetSimulator: Sendable {
    public var endpoint: String
    public var clusterToken: String
    public var nodes: Int
    public var gpusPerNode = 8
    public var interval: Duration = .seconds(5)
    public var seconds: Double = 10
    public var runs = 1
    public var pollers = Int.max
    public var pollWait = 25
    public var jobDuration: Duration = .milliseconds(200)
    public var prefix = "sim"
    public var controllerPID: Int32?
    /// Trivial jobs to submit (with `userToken`) after the measured windows; the run waits for them to exit.
    public var jobs = 0
    public var userToken: String?

    public init(endpoint: String, clusterToken: String, nodes: Int) {
        self.endpoint = endpoint
        self.clusterToken = clusterToken
        self.nodes = nodes
    }

    public func run() async throws -> Figure {
        // Heartbeats and reports: idle connections kept for as many transfers as the thread pool runs at once.
        let client = BenchClient.make(endpoint: endpoint, token: nil, concurrency: 320)
        let clock = ContinuousClock()
        let registrationStart = clock.now
        let registered = try await register(client)
        let registration = (clock.now - registrationStart).seconds
        let counters = FleetCounters()
        let polls = try LongPollMux(endpoint: endpoint)
        var tasks: [Task<Void, Never>] = []
        for node in registered {
            let agent = FleetAgent(
                node: node,
                client: client,
                counters: counters,
                interval: interval,
                longPolls: node.index < pollers,
                pollWait: pollWait,
                jobDuration: jobDuration,
                reporter: FleetReporter(node: node, client: client, counters: counters)
            )
            tasks.append(Task { await agent.heartbeatLoop() })
            if agent.longPolls { polls.add(agent.longPoll) }
        }
        defer {
            for task in tasks { task.cancel() }
            polls.stop()
        }
        try await Task.sleep(for: interval)  // every node has sent its first heartbeat
        _ = counters.takeLatencies()
        var windows: [Window] = []
        for _ in 0..<max(1, runs) { windows.append(try await measure(counters)) }
        var extra = ["registration_s": rounded(registration)]
        if jobs > 0 {
            let start = clock.now
            try await submitJobs()
            try await waitForJobs(counters)
            extra["jobs_submitted"] = Double(jobs)
            extra["jobs_run_s"] = rounded((clock.now - start).seconds)
        }
        return figure(windows, counters: counters, extra: extra)
    }

    struct Window: Sendable {
        var heartbeatsPerSecond: Double
        var controllerCores: Double?
        var simulatorCores: Double?
    }

    func measure(_ counters: FleetCounters) async throws -> Window {
        let clock = ContinuousClock()
        let start = clock.now
        let beats = counters.heartbeats.load(ordering: .relaxed)
        let controllerCPU = controllerPID.flatMap(ProcStat.cpuSeconds)
        let ownCPU = ProcStat.cpuSeconds(getpid())
        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        let elapsed = (clock.now - start).seconds
        return Window(
            heartbeatsPerSecond: Double(counters.heartbeats.load(ordering: .relaxed) - beats) / elapsed,
            controllerCores: ProcStat.cores(
                from: controllerCPU,
                to: controllerPID.flatMap(ProcStat.cpuSeconds),
                elapsed: elapsed
            ),
            simulatorCores: ProcStat.cores(from: ownCPU, to: ProcStat.cpuSeconds(getpid()), elapsed: elapsed)
        )
    }

    func figure(_ windows: [Window], counters: FleetCounters, extra known: [String: Double]) -> Figure {
        let latency = Stats(counters.takeLatencies())
        var extra: [String: Double] = [
            "nodes": Double(nodes),
            "offered_per_s": rounded(Double(nodes) / interval.seconds, 1),
            "heartbeat_errors": Double(counters.heartbeatErrors.load(ordering: .relaxed)),
            "poll_errors": Double(counters.pollErrors.load(ordering: .relaxed)),
            "report_errors": Double(counters.reportErrors.load(ordering: .relaxed)),
            "polls": Double(counters.polls.load(ordering: .relaxed)),
            "launches": Double(counters.launches.load(ordering: .relaxed)),
            "exits": Double(counters.exits.load(ordering: .relaxed)),
            "latency_p50_ms": rounded(latency.median),
            "latency_p99_ms": rounded(latency.percentile(99)),
            "simulator_cores": rounded(Stats(windows.compactMap(\.simulatorCores)).median),
        ]
        extra.merge(known) { $1 }
        let controllerCores = windows.compactMap(\.controllerCores)
        if !controllerCores.isEmpty {
            extra["controller_cores"] = rounded(Stats(controllerCores).median)
            extra["controller_cores_max"] = rounded(Stats(controllerCores).max)
        }
        if let pid = controllerPID, let rss = ProcStat.rssKiB(pid) {
            extra["controller_rss_mib"] = rounded(Double(rss) / 1024, 1)
        }
        let longPollers = min(pollers, nodes)
        return Figure(
            name: "heartbeats",
            unit: "heartbeats/s",
            samples: windows.map { rounded($0.heartbeatsPerSecond, 1) },
            notes: "\(nodes) simulated agents (\(gpusPerNode) GPUs each) heartbeating every \(interval.seconds) s "
                + "+-10%, \(windows.count) windows of \(seconds) s; \(longPollers) long-poll (wait=\(pollWait)), "
                + "the others poll with wait=0 after each heartbeat",
            extra: extra
        )
    }

    func register(_ client: HTTPClient) async throws -> [FleetNode] {
        let ticket = Ticket()
        let auth = HTTPHeaders([("Authorization", "Bearer \(clusterToken)")])
        let (count, prefix, gpus) = (nodes, prefix, gpusPerNode)
        return try await withThrowingTaskGroup(of: [FleetNode].self) { group in
            for _ in 0..<min(16, max(1, count)) {
                group.addTask {
                    var done: [FleetNode] = []
                    while case let index = ticket.next(), index < count {
                        var node = FleetNode(index: index, prefix: prefix, gpuCount: gpus)
                        let body = WireJSON.encode(node.registration)
                        let response = try await client.execute(.post, "/v1/agents/register", body: body, headers: auth)
                        guard response.status == 200 else {
                            throw BenchError("registering \(node.id): status \(response.status)")
                        }
                        node.token = try WireJSON.decode(RegisterResponse.self, from: response.body).nodeToken
                        done.append(node)
                    }
                    return done
                }
            }
            var all: [FleetNode] = []
            for try await part in group { all += part }
            return all.sorted { $0.index < $1.index }
        }
    }

    func submitJobs() async throws {
        guard let userToken else { throw BenchError("--jobs needs --token (a user token to submit with)") }
        // In batches of 1,000 (POST /v1/jobs/batch), as CorralClient submits many jobs: the run measures
        // placement and execution, not one round trip per submission.
        let client = BenchClient.make(endpoint: endpoint, token: userToken, concurrency: 4)
        let request = try WireJSON.decode(SubmitJobRequest.self, from: BenchClient.trivialJob)
        var left = jobs
        while left > 0 {
            let count = min(left, BatchSubmitRequest.maxJobs)
            let body = WireJSON.encode(BatchSubmitRequest(jobs: Array(repeating: request, count: count)))
            let response = try await client.execute(.post, "/v1/jobs/batch", body: body)
            guard response.status == 201 else {
                throw BenchError(
                    "a batch of \(count) jobs was refused: \(String(decoding: response.body, as: UTF8.self))"
                )
            }
            left -= count
        }
    }

    func waitForJobs(_ counters: FleetCounters) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(300)
        while counters.exits.load(ordering: .relaxed) < jobs, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
