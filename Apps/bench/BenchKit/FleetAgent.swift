import ClusterWire
import HTTPKit
import Synchronization

/// The loops of one simulated agent: heartbeats on a jittered cadence, polls for assignments, and simulated
/// jobs that report starting, running and a clean exit. Cancellation stops them.
struct FleetAgent: Sendable {
    let node: FleetNode
    let client: HTTPClient
    let counters: FleetCounters
    let interval: Duration
    /// Long-polls continuously; otherwise it polls with wait=0 after each heartbeat.
    let longPolls: Bool
    let pollWait: Int
    let jobDuration: Duration
    let reporter: FleetReporter

    var auth: HTTPHeaders { HTTPHeaders([("Authorization", "Bearer \(node.token)")]) }

    func heartbeatLoop() async {
        let clock = ContinuousClock()
        // Spread the first beats over one interval, then keep each node's own cadence, +-10% per beat.
        var next = clock.now + interval * Double.random(in: 0..<1)
        while !Task.isCancelled {
            do { try await Task.sleep(until: next, clock: clock) } catch { return }
            next += interval * Double.random(in: 0.9..<1.1)
            await heartbeat()
            if !longPolls { await poll(wait: 0) }
        }
    }

    func heartbeat() async {
        let clock = ContinuousClock()
        let start = clock.now
        let body = WireJSON.encode(node.heartbeat(running: counters.running(on: node.index)))
        let response = try? await client.execute(.post, "/v1/agents/\(node.id)/heartbeat", body: body, headers: auth)
        guard let response, response.status == 200 else {
            counters.heartbeatErrors.add(1, ordering: .relaxed)
            return
        }
        counters.heartbeats.add(1, ordering: .relaxed)
        counters.recordLatency((clock.now - start).seconds * 1000)
        if let answer = try? WireJSON.decode(HeartbeatResponse.self, from: response.body) {
            for id in answer.stop { stop(id) }
        }
    }

    /// One poll for assignments; false when it failed.
    @discardableResult
    func poll(wait: Int) async -> Bool {
        let path = "/v1/agents/\(node.id)/assignments?wait=\(wait)"
        let response = try? await client.execute(.get, path, headers: auth, timeout: .seconds(Int64(wait) + 15))
        return handle(response?.status == 200 ? response?.body : nil)
    }

    /// What an answer to a poll asks for (nil: the poll failed); false when it failed.
    @discardableResult
    func handle(_ body: [UInt8]?) -> Bool {
        guard let body, let answer = try? WireJSON.decode(AssignmentsResponse.self, from: body) else {
            counters.pollErrors.add(1, ordering: .relaxed)
            return false
        }
        counters.polls.add(1, ordering: .relaxed)
        for id in answer.stop { stop(id) }
        for spec in answer.launch where counters.firstLaunch(spec.allocationId) {
            Task { await run(spec.allocationId) }
        }
        return true
    }

    /// The long poll this node keeps open, for `LongPollMux`.
    var longPoll: LongPollMux.Poll {
        LongPollMux.Poll(path: "/v1/agents/\(node.id)/assignments?wait=\(pollWait)", token: node.token) { body in
            handle(body)
        }
    }

    /// A simulated job: starting, running (a made-up pid), then exited 0 after `jobDuration`.
    func run(_ allocation: String) async {
        counters.launches.add(1, ordering: .relaxed)
        let pid = Int32.random(in: 100_000...4_000_000)
        report(allocation, AllocationStatusRequest(phase: .starting))
        counters.start(allocation, pid: pid, on: node.index)
        report(allocation, AllocationStatusRequest(phase: .running, pid: pid))
        try? await Task.sleep(for: jobDuration)
        guard counters.finish(allocation, on: node.index) else { return }  // stopped meanwhile
        report(allocation, AllocationStatusRequest(phase: .exited, exitCode: 0))
        counters.exits.add(1, ordering: .relaxed)
    }

    func stop(_ allocation: String) {
        reporter.stop(allocation)
    }

    func report(_ allocation: String, _ body: AllocationStatusRequest) {
        reporter.send(allocation, body)
    }
}
