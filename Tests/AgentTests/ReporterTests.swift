import ClusterWire
import CorralSupport
import HTTPKit
import Synchronization
import Testing

@testable import AgentKit

/// The agent's `Reporter` against a real HTTP server standing in for the controller's status route: a STARTING
/// report sent to an idle reporter waits `Reporter.gathering` for company, so a launch's STARTING and RUNNING, a
/// few milliseconds apart, reach the controller in one request (one commit there), in the order they were sent.
@Suite struct ReporterTests {
    /// Each request's reports, as the server received them: (allocation, phase).
    final class Received: Sendable {
        let requests = Mutex<[[String]]>([])
        var all: [[String]] { requests.withLock { $0 } }
    }

    static func server(_ received: Received) throws -> HTTPServer {
        var router = Router()
        router.add(.post, "/v1/agents/{node}/status") { request in
            let batch = try WireJSON.decode(StatusBatchRequest.self, from: request.body)
            received.requests.withLock { $0.append(batch.reports.map { "\($0.allocationId) \($0.status.phase)" }) }
            let results = batch.reports.map { StatusBatchResult(allocationId: $0.allocationId, status: 200) }
            return .json(WireJSON.encode(StatusBatchResponse(results: results)))
        }
        var configuration = HTTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, responder: router)
        try server.start()
        return server
    }

    @Test func aLaunchsReportsGoInOneRequestAndALaterOneInItsOwn() async throws {
        let received = Received()
        let server = try Self.server(received)
        defer { server.shutdown() }
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: "http://127.0.0.1:\(server.port)"))
        let reporter = Reporter(log: MemoryLog(), node: "n1", client: { client })

        let clock = ContinuousClock()
        let first = clock.now
        reporter.send("a.1", AllocationStatusRequest(phase: .starting))
        try await Task.sleep(for: .milliseconds(2))
        reporter.send("a.1", AllocationStatusRequest(phase: .running, pid: 42))
        let gap = clock.now - first
        try await waitFor { received.all.joined().count == 2 }
        #expect(Array(received.all.joined()) == ["a.1 starting", "a.1 running"])
        // One request, unless this machine was too loaded to send the second within half the window.
        if gap < Reporter.gathering / 2 { #expect(received.all == [["a.1 starting", "a.1 running"]]) }

        // Long after: the reporter is idle again, and the next report goes by itself.
        try await Task.sleep(for: Reporter.gathering * 5)
        reporter.send("a.1", AllocationStatusRequest(phase: .exited, exitCode: 0))
        try await waitFor { received.all.count == 2 }
        #expect(received.all.last == ["a.1 exited"])
    }

    func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }
}
