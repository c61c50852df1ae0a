import ClusterCore
import ClusterWire
import CorralSupport
import HTTPKit
import Synchronization

/// Posts jobs' notifications (issue 17) off the state actor: `send` only hands the event to a bounded buffer
/// and returns, so a slow or dead endpoint never blocks the controller. Each delivery runs on its own task and
/// is retried with doubling waits while the endpoint fails (a connection error, 408, 429 or 5xx); another 4xx
/// is final. No token is sent, the URL is never logged in full, and redirects are not followed.
final class Notifier: Sendable {
    struct Delivery: Sendable {
        let url: NotifyURL
        let body: [UInt8]
        let description: String
        /// The commits it tells of (`WALSync.mark()`): it leaves once they are on the disk.
        let commits: Int
    }

    /// Waits before each retry: about 2 minutes in all.
    static let retryDelays: [Duration] = [
        .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32),
        .seconds(60),
    ]
    static let maxInFlight = 1000

    private let continuation: AsyncStream<Delivery>.Continuation
    private let inFlight = Mutex(0)

    /// A notification tells of a commit: it leaves once that is on the disk (`WALSync`).
    init(log: any LogSink, walSync: WALSync) {
        let (stream, continuation) = AsyncStream<Delivery>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        self.continuation = continuation
        Task { [weak self] in
            for await delivery in stream {
                // Each waits for its own commits only: a backlog leaves after one sync, not one sync each.
                await walSync.barrier(upTo: delivery.commits)
                guard let self else { return }
                // At most `maxInFlight` at once: the others wait in the buffer (the newest 10,000 kept), so a
                // dead receiver slows its own notifications, not the controller.
                while !self.inFlight.withLock({ count in
                    guard count < Self.maxInFlight else { return false }
                    count += 1
                    return true
                }) {
                    try? await Task.sleep(for: .milliseconds(50))
                }
                Task {
                    await Self.deliver(delivery, log: log)
                    self.inFlight.withLock { $0 -= 1 }
                }
            }
        }
    }

    deinit { continuation.finish() }

    func send(_ notification: JobNotification, to url: NotifyURL, after commits: Int) {
        let description = "'\(notification.event)' of job \(notification.job.id) to \(url.redacted)"
        continuation.yield(
            Delivery(url: url, body: WireJSON.encode(notification), description: description, commits: commits)
        )
    }

    static func deliver(_ delivery: Delivery, log: any LogSink) async {
        var configuration = HTTPClientConfiguration(baseURL: "\(delivery.url.scheme)://\(delivery.url.authority)")
        configuration.userAgent = "corral-controller"
        configuration.connectTimeout = .seconds(5)
        configuration.requestTimeout = .seconds(10)
        let client = HTTPClient(configuration: configuration)
        var headers = HTTPHeaders()
        headers.set("Content-Type", "application/json")
        var problem = ""
        for attempt in 0...retryDelays.count {
            if attempt > 0 { try? await Task.sleep(for: retryDelays[attempt - 1]) }
            do {
                let response = try await client.execute(.post, delivery.url.path, body: delivery.body, headers: headers)
                if (200..<300).contains(response.status) { return }
                problem = "HTTP \(response.status)"
                if (400..<500).contains(response.status), ![408, 429].contains(response.status) { break }
            } catch {
                // The code and cause only: the error's description names the full URL, path (secret) and all.
                problem = "\(error.code): \(error.message)"
            }
        }
        log.warning("notification \(delivery.description) not delivered: \(problem.prefix(200))")
    }
}
