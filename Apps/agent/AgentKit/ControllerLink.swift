import ClusterCore
import ClusterWire
import CorralSupport
import HTTPKit
import LinuxSystem
import Synchronization

/// The agent's link to the controller: registration with the join token, then heartbeats and long polls with
/// the node's own token, and the settings the controller gives with every answer (heartbeat interval, long
/// poll wait, allocation lease). Each answered registration or heartbeat renews the lease file the job
/// supervisors fence by, with the lease of that answer: the agent never runs on settings learnt once.
actor ControllerLink {
    struct Settings: Sendable {
        var heartbeatInterval: Duration = .seconds(5)
        var longPollSeconds = 25
        /// How long jobs may run without a renewal (an answered heartbeat) before their supervisors stop them.
        var allocationLease: Duration = .seconds(120)
    }

    enum Answer<Value: Sendable>: Sendable {
        case answered(Value)
        /// 401 or 404: the controller no longer knows this node (its token was replaced): register again.
        case unknownNode
        case failed(String)
    }

    let configuration: AgentConfiguration
    let log: any LogSink
    private(set) var client: HTTPClient
    private(set) var settings = Settings()
    /// The controller asked now, of `configuration.endpoints`, and the token it is asked with.
    private var current = 0
    private var token: String

    init(configuration: AgentConfiguration, log: any LogSink) {
        self.configuration = configuration
        self.log = log
        token = configuration.clusterToken
        client = Self.makeClient(configuration, token: configuration.clusterToken)
        heldLease = LeaseFile.lease(configuration.leasePath)
    }

    /// The controller this link asks now.
    var endpoint: String { configuration.endpoints.isEmpty ? configuration.endpoint : configuration.endpoints[current] }

    static func makeClient(
        _ configuration: AgentConfiguration,
        token: String,
        timeout: Duration? = nil,
        endpoint: String? = nil
    ) -> HTTPClient {
        var settings = HTTPClientConfiguration(
            baseURL: endpoint ?? configuration.endpoints.first ?? configuration.endpoint,
            bearerToken: token
        )
        if let timeout { settings.requestTimeout = timeout }
        settings.caFile = configuration.caFile
        settings.clientCertificateFile = configuration.clientCertificate
        settings.clientKeyFile = configuration.clientKey
        settings.userAgent = "corral-agent"
        return HTTPClient(configuration: settings)
    }

    /// The lease the agent holds now: what its lease file says. Read from the file once, at start (a lease an
    /// earlier agent process was given), then kept as each answer renews it.
    private(set) var heldLease: Duration?

    /// Registers until the controller takes it (retrying with backoff), or throws when it refuses for good.
    /// Returns the allocations the controller wants stopped. One registration at a time: the heartbeat and poll
    /// loops that both find the node's token refused share it (two at once would each replace the other's
    /// token). Cancelling the caller cancels it.
    func registerUntilAccepted(_ request: @escaping @Sendable () async -> RegisterRequest) async throws -> [String] {
        let task: Task<[String], any Error>
        if let registering {
            task = registering
        } else {
            task = Task { try await self.registerLoop(request) }
            registering = task
        }
        defer { if registering == task { registering = nil } }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    private var registering: Task<[String], any Error>?

    private func registerLoop(_ request: @Sendable () async -> RegisterRequest) async throws -> [String] {
        var attempt = 0
        while true {
            do {
                return try await register(await request())
            } catch let error as AgentFailure where error.isFatal {
                throw error
            } catch {
                let delay = Backoff(initial: .milliseconds(200), maximum: .seconds(10)).baseDelay(attempt: attempt)
                log.warning("cannot register with \(endpoint): \(error); retrying in \(delay)")
                moveOn(status: nil)
                attempt += 1
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Registers with the node's own token when it has one (kept in STATE_DIR/node.token), else with the join
    /// token. A node token the controller no longer knows (401: an admin let the node join again, or a new
    /// controller database) falls back to the join token; the controller refuses the join token for a node
    /// whose token is live, so a copy of the join token cannot take this node over.
    private func register(_ request: RegisterRequest) async throws -> [String] {
        let sentAt = Monotonic.nanoseconds()
        let saved = try? Files.readSecret(configuration.nodeTokenPath).trimmingWhitespace()
        let body = WireJSON.encode(request)
        func post(_ token: String) async throws -> HTTPClientResponse {
            try await Self.makeClient(configuration, token: token, endpoint: endpoint)
                .execute(.post, "/v1/agents/register", body: body)
        }
        var response = try await post(saved.flatMap { $0.isEmpty ? nil : $0 } ?? configuration.clusterToken)
        if response.status == 401, let saved, !saved.isEmpty {
            log.warning("the controller no longer knows this node's token; registering with the join token")
            response = try await post(configuration.clusterToken)
        }
        guard response.status == 200 else {
            let message = ErrorEnvelope.message(in: response.body)
            if response.status == 401 || response.status == 403 {
                throw AgentFailure(
                    "the controller refused the registration (\(response.status)): \(message)",
                    fatal: true
                )
            }
            throw AgentFailure(
                "registration failed with status \(response.status): \(message)",
                fatal: response.status == 400
            )
        }
        let answer = try WireJSON.decode(RegisterResponse.self, from: response.body)
        if answer.nodeToken != saved {
            do {
                try Files.writeAtomically(configuration.nodeTokenPath, answer.nodeToken + "\n", mode: 0o600)
            } catch {
                // It runs on in memory; restarted, it would need `corral nodes approve NODE --rejoin`.
                log.error("cannot keep the node token in \(configuration.nodeTokenPath): \(error)")
            }
        }
        token = answer.nodeToken
        client = Self.makeClient(configuration, token: answer.nodeToken, endpoint: endpoint)
        adopt(
            heartbeatIntervalMs: answer.heartbeatIntervalMs,
            longPollSeconds: answer.longPollSeconds,
            allocationLeaseMs: answer.allocationLeaseMs,
            renewedAt: sentAt
        )
        log.info("registered with \(endpoint) as \(answer.nodeId)")
        return answer.stop
    }

    /// One heartbeat. An answer renews the lease (counted from before the request: the controller's lease
    /// began no earlier) and brings the settings to follow now; it returns the allocations to stop.
    func heartbeat(_ request: HeartbeatRequest) async -> Answer<StopOrders> {
        let sentAt = Monotonic.nanoseconds()
        do {
            let response = try await client.execute(
                .post,
                "/v1/agents/\(configuration.nodeID)/heartbeat",
                body: WireJSON.encode(request),
                timeout: heartbeatTimeout
            )
            if response.status == 401 || response.status == 404 { return .unknownNode }
            guard response.status == 200 else {
                moveOn(status: response.status, location: response.headers["Location"])
                return .failed("heartbeat: status \(response.status)")
            }
            let answer = try WireJSON.decode(HeartbeatResponse.self, from: response.body)
            adopt(
                heartbeatIntervalMs: answer.heartbeatIntervalMs,
                longPollSeconds: answer.longPollSeconds,
                allocationLeaseMs: answer.allocationLeaseMs,
                renewedAt: sentAt
            )
            return .answered(StopOrders(stop: answer.stop, preempt: Set(answer.preempt ?? []), update: answer.update))
        } catch {
            moveOn(status: nil)
            return .failed("heartbeat failed: \(error)")
        }
    }

    /// A heartbeat that hangs (a network cut swallowed it) must not hold the next one back for the client's
    /// 30 s: the renewal it would bring is dated when it was sent, so a late one is stale anyway (issue 18).
    var heartbeatTimeout: Duration {
        max(.seconds(1), min(settings.heartbeatInterval * 2, settings.allocationLease / 8))
    }

    /// The long poll for work. Cancelling the calling task ends it within about a second.
    func poll() async -> Answer<AssignmentsResponse> {
        let body = Accumulated()
        do {
            let response = try await client.stream(
                .get,
                "/v1/agents/\(configuration.nodeID)/assignments?wait=\(settings.longPollSeconds)",
                timeout: .seconds(Int64(settings.longPollSeconds) + 15)
            ) { chunk in
                body.append(chunk)
                return true
            }
            if response.status == 401 || response.status == 404 { return .unknownNode }
            guard response.status == 200 else {
                moveOn(status: response.status, location: response.headers["Location"])
                return .failed("assignments: status \(response.status)")
            }
            return .answered(try WireJSON.decode(AssignmentsResponse.self, from: body.bytes))
        } catch {
            moveOn(status: nil)
            return .failed("waiting for work failed: \(error)")
        }
    }

    /// With several controllers (issue 19): after a failure that says this one cannot serve now (no answer, a
    /// 503, or a standby's 307), ask the one a 307 names when it is listed, else the next in the list. A node's
    /// token is the cluster's, not one controller's: every controller of the cluster takes it.
    private func moveOn(status: Int?, location: String? = nil) {
        let endpoints = configuration.endpoints
        guard endpoints.count > 1, status == nil || status == 503 || status == 307 else { return }
        let named = location.flatMap { location in endpoints.firstIndex { location.hasPrefix($0 + "/") } }
        let next = named ?? (current + 1) % endpoints.count
        guard next != current else { return }
        current = next
        client = Self.makeClient(configuration, token: token, endpoint: endpoints[next])
        log.info("asking the controller at \(endpoints[next]) from now on")
    }

    /// Takes the settings of an answer and renews the lease with its lease (the previous one when it gives
    /// none: an older controller).
    private func adopt(heartbeatIntervalMs: Int, longPollSeconds: Int?, allocationLeaseMs: Int?, renewedAt: Int64) {
        settings.heartbeatInterval = .milliseconds(Int64(max(100, heartbeatIntervalMs)))
        if let longPollSeconds { settings.longPollSeconds = max(1, min(longPollSeconds, 60)) }
        if let lease = allocationLeaseMs { settings.allocationLease = .milliseconds(Int64(max(1000, lease))) }
        // What the agent tells the controller it holds is what the supervisors will fence by: the file's.
        if LeaseFile.renew(configuration.leasePath, lease: settings.allocationLease, renewedAt: renewedAt) {
            heldLease = settings.allocationLease
        }
    }
}

/// What a heartbeat's answer asks to stop, and which of those are preempted (checkpoint signal first).
/// A heartbeat's orders: allocations to stop (or preempt), and a rolling update's.
struct StopOrders: Sendable {
    var stop: [String]
    var preempt: Set<String>
    var update: AgentUpdateOrder?
}

/// A streamed body, gathered on the transfer's thread.
private final class Accumulated: Sendable {
    private let storage = Mutex<[UInt8]>([])
    func append(_ chunk: [UInt8]) { storage.withLock { $0 += chunk } }
    var bytes: [UInt8] { storage.withLock { $0 } }
}

struct AgentFailure: Error, CustomStringConvertible {
    let message: String
    let isFatal: Bool
    init(_ message: String, fatal: Bool = false) {
        self.message = message
        self.isFatal = fatal
    }
    var description: String { message }
}
