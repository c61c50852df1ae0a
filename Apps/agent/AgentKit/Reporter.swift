import ClusterWire
import CorralSupport
import HTTPKit
import Synchronization

/// Sends allocation status reports to the controller one at a time, in the order they happened, retrying
/// through controller outages. Reports are idempotent on the controller, so a retry after a lost answer is safe.
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

    private let queue = Mutex(Queue())
    private let log: any LogSink
    private let client: @Sendable () async -> HTTPClient
    private let onStop: @Sendable (String) async -> Void

    init(
        log: any LogSink,
        client: @escaping @Sendable () async -> HTTPClient,
        onStop: @escaping @Sendable (String) async -> Void
    ) {
        self.log = log
        self.client = client
        self.onStop = onStop
    }

    func send(_ allocationID: String, _ body: AllocationStatusRequest, then: (@Sendable () -> Void)? = nil) {
        let start = queue.withLock { queue in
            queue.reports.append(Report(allocationID: allocationID, body: body, then: then))
            defer { queue.draining = true }
            return !queue.draining
        }
        if start { Task { await drain() } }
    }

    private func drain() async {
        var failures = 0
        while let report = queue.withLock({ $0.reports.first }) {
            switch await deliver(report) {
            case .done:
                report.then?()
                let more = queue.withLock { queue in
                    queue.reports.removeFirst()
                    if queue.reports.isEmpty { queue.draining = false }
                    return !queue.reports.isEmpty
                }
                failures = 0
                if !more { return }
            case .retry:
                failures += 1
                let delay = min(100 * (1 << min(failures, 6)), 5000)
                try? await Task.sleep(for: .milliseconds(delay))
            }
        }
    }

    private enum Outcome { case done, retry }

    private func deliver(_ report: Report) async -> Outcome {
        let path = "/v1/allocations/\(report.allocationID)/status"
        do {
            let response = try await client().execute(.post, path, body: WireJSON.encode(report.body))
            switch response.status {
            case 200..<300:
                if let answer = try? WireJSON.decode(AllocationStatusResponse.self, from: response.body), answer.stop {
                    await onStop(report.allocationID)
                }
                return .done
            case 401, 500...:
                return .retry
            default:
                log.warning(
                    "controller refused the \(report.body.phase) report for \(report.allocationID): "
                        + String(decoding: response.body.prefix(300), as: UTF8.self)
                )
                return .done
            }
        } catch {
            return .retry
        }
    }
}
