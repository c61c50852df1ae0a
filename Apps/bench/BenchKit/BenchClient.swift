import ClusterWire
import HTTPKit
import Synchronization

/// An HTTP client for many concurrent callers: enough pooled handles that each keeps its connection alive.
enum BenchClient {
    static func make(endpoint: String, token: String?, concurrency: Int) -> HTTPClient {
        var configuration = HTTPClientConfiguration(baseURL: endpoint, bearerToken: token)
        configuration.maxIdleHandles = concurrency + 8
        configuration.userAgent = "corral-bench"
        configuration.requestTimeout = .seconds(60)
        return HTTPClient(configuration: configuration)
    }

    /// The trivial job every submission benchmark submits: `true`, one CPU, no GPU.
    static let trivialJob: [UInt8] = {
        var request = SubmitJobRequest(command: ["true"])
        request.name = "bench"
        request.cwd = "/tmp"
        request.cpus = 1
        return WireJSON.encode(request)
    }()
}

/// A shared counter that concurrent tasks take numbers from (an Atomic cannot be captured by a task).
final class Ticket: Sendable {
    private let value = Atomic<Int>(0)
    /// The next number: 0, 1, 2...
    func next() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
