import ClusterWire
import CorralSupport
import HTTPKit
import Synchronization

/// Sends allocation status reports to the controller in the order they happened, retrying through controller
/// outages. What has piled up goes in one request (`POST /v1/agents/{node}/status`, up to 64 reports, applied
/// in order); reports are idempotent on the controller, so a retry after a lost answer is safe.
/// Not an actor: `send` must be synchronous so that the order of calls is the order of reports.
final class Reporter: Sendable {
    struct Report: Sendable {
        let allocationID: String
        let body: AllocationStatusRequest
        /// Runs once the controller has taken the report (or refused it for good).
        let then: (@Sendable () -> Void)?
    }

    private struct Queue {
        var reports: [Report] = []
        var draining = false
    }

    static let batchSize = 64
    private let queue = Mutex(Queue())
    private let log: any LogSink
    private let node: String
    private let client: @Sendable () async -> HTTPClient
    /// The longest wait between tries: 5 s with one controller; with several (issue 19), 500 ms, as the
    /// agent's polls: a failover leaves reports owed, and the new leader should hear them as soon as it leads.
    private let maxDelay: Int
    /// Allocations whose report the controller answered with "stop": the agent's task group stops them.
    let stops: AsyncStream<String>
    private let stopRequests: AsyncStream<String>.Continuation

    init(
        log: any LogSink,
        node: String,
        maxDelay: Duration = .seconds(5),
        client: @escaping @Sendable () async -> HTTPClient
    ) {
        self.log = log
        self.node = node
        self.maxDelay = Int(
            maxDelay.components.seconds * 1000 + maxDelay.components.attoseconds / 1_000_000_000_000_000
        )
        self.client = client
        (stops, stopRequests) = AsyncStream.makeStream(of: String.self)
    }

    /// How long a STARTING report sent to an idle reporter waits for company: a launch's STARTING and RUNNING (a
    /// few milliseconds apart) then go in one request and one commit, and the controller's work on the first does
    /// not compete with the job's start for the node's CPUs (issue 16, submit to first instruction). Other
    /// reports (an exit, a launch failure) go at once.
    static let gathering: Duration = .milliseconds(10)

    func send(_ allocationID: String, _ body: AllocationStatusRequest, then: (@Sendable () -> Void)? = nil) {
        let start = queue.withLock { queue in
            queue.reports.append(Report(allocationID: allocationID, body: body, then: then))
            defer { queue.draining = true }
            return !queue.draining
        }
        if start {
            let gather = body.phase == .starting
            Task {
                if gather { try? await Task.sleep(for: Self.gathering) }
                await drain()
            }
        }
    }

    private func drain() async {
        var failures = 0
        while true {
            let batch = queue.withLock { queue in
                if queue.reports.isEmpty { queue.draining = false }
                return Array(queue.reports.prefix(Self.batchSize))
            }
            guard !batch.isEmpty else { return }
            let taken = await deliver(batch)
            if taken > 0 {
                queue.withLock { $0.reports.removeFirst(taken) }
                failures = 0
            }
            if taken < batch.count {
                failures += 1
                let delay = min(100 * (1 << min(failures, 6)), maxDelay)
                try? await Task.sleep(for: .milliseconds(delay))
            }
        }
    }

    /// Sends the batch; returns how many of its first reports the controller took (or refused for good). The
    /// rest, from the first that failed for a reason worth retrying, go again in order.
    private func deliver(_ batch: [Report]) async -> Int {
        let body = StatusBatchRequest(
            reports: batch.map { AllocationStatusReport(allocationId: $0.allocationID, status: $0.body) }
        )
        let results: [StatusBatchResult]
        do {
            let response = try await client().execute(.post, "/v1/agents/\(node)/status", body: WireJSON.encode(body))
            switch response.status {
            case 200:
                results = try WireJSON.decode(StatusBatchResponse.self, from: response.body).results
            case 400:
                // The batch itself is malformed: sending it again cannot help, and holding it would hold back
                // every later report.
                log.warning(
                    "controller refused \(batch.count) status report(s): "
                        + String(decoding: response.body.prefix(300), as: UTF8.self)
                )
                for report in batch { report.then?() }
                return batch.count
            default:
                // 401 (token renewed by re-registering), 403 (a certificate), 404, 413, 5xx: the reports are
                // still owed, so they go again later rather than being dropped with their job records.
                return 0
            }
        } catch {
            return 0
        }
        var taken = 0
        for (report, result) in zip(batch, results) {
            if result.status == 401 || result.status >= 500 { break }
            if result.status != 200 {
                log.warning(
                    "controller refused the \(report.body.phase) report for \(report.allocationID): "
                        + (result.error ?? "status \(result.status)")
                )
            } else if result.response?.stop == true {
                stopRequests.yield(report.allocationID)
            }
            report.then?()
            taken += 1
        }
        return taken
    }
}
