import ClusterWire
import HTTPKit
import Synchronization

/// A simulated agent's status reports, sent as the real agent's Reporter sends them: in order, and what has
/// piled up in one `POST /v1/agents/{node}/status` (up to 64 reports). A report the controller did not take
/// counts as a report error; the simulator does not retry. A report answered with "stop" ends its simulated job
/// (killed by SIGTERM), as the agent's task group does.
final class FleetReporter: Sendable {
    private struct Queue {
        var reports: [AllocationStatusReport] = []
        var draining = false
    }

    private let queue = Mutex(Queue())
    private let path: String
    private let auth: HTTPHeaders
    private let client: HTTPClient
    private let counters: FleetCounters
    private let nodeIndex: Int

    init(node: FleetNode, client: HTTPClient, counters: FleetCounters) {
        path = "/v1/agents/\(node.id)/status"
        auth = HTTPHeaders([("Authorization", "Bearer \(node.token)")])
        nodeIndex = node.index
        self.client = client
        self.counters = counters
    }

    /// Ends a simulated job the controller asked to stop, unless it already ended.
    func stop(_ allocation: String) {
        guard counters.finish(allocation, on: nodeIndex) else { return }
        send(allocation, AllocationStatusRequest(phase: .exited, signal: 15))
    }

    func send(_ allocation: String, _ status: AllocationStatusRequest) {
        let start = queue.withLock { queue in
            queue.reports.append(AllocationStatusReport(allocationId: allocation, status: status))
            defer { queue.draining = true }
            return !queue.draining
        }
        if start { Task { await drain() } }
    }

    private func drain() async {
        while true {
            let batch = queue.withLock { queue in
                let batch = Array(queue.reports.prefix(64))
                queue.reports.removeFirst(batch.count)
                if batch.isEmpty { queue.draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let body = WireJSON.encode(StatusBatchRequest(reports: batch))
            guard let response = try? await client.execute(.post, path, body: body, headers: auth),
                response.status == 200,
                let answer = try? WireJSON.decode(StatusBatchResponse.self, from: response.body)
            else {
                counters.reportErrors.add(batch.count, ordering: .relaxed)
                continue
            }
            for (report, result) in zip(batch, answer.results) {
                if result.status != 200 { counters.reportErrors.add(1, ordering: .relaxed) }
                if result.response?.stop == true { stop(report.allocationId) }
            }
        }
    }
}
