public import ClusterWire
import HTTPKit

/// Submissions that survive a dropped answer (issue 16): each carries an `Idempotency-Key`, and when the
/// connection fails after the request may have reached the controller (a reset, a timeout, a controller
/// killed between storing the job and answering), it is sent again with the same key, through a restart,
/// for about 8 s; the controller answers with the job its first try made. A connection refused at the first
/// try is reported at once: nothing was sent.
extension CorralClient {
    static let submitRetryDelays: [Duration] = [
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4),
    ]

    /// While no controller can act (a failover: a standby waits out the dead leader's lease, 3 s by default):
    /// asked again every 250 ms, for up to 15 s.
    static let leaderWaitDelays = [Duration](repeating: .milliseconds(250), count: 60)

    /// Many jobs in one request and one transaction (`POST /v1/jobs/batch`, at most 1,000), with an
    /// `Idempotency-Key` and the same retries as `submit`.
    public func submitBatch(_ requests: [SubmitJobRequest]) async throws(CorralError) -> [JobView] {
        let response: BatchSubmitResponse = try await submitIdempotently(
            WireJSON.encode(BatchSubmitRequest(jobs: requests)),
            path: "/v1/jobs/batch"
        )
        return response.jobs
    }

    /// A fresh key: 128 random bits, as 32 hex digits.
    static func idempotencyKey() -> String {
        SecureRandom.bytes(16).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    func submitIdempotently<T: Decodable>(
        _ body: [UInt8],
        path: String = "/v1/jobs",
        key: String = idempotencyKey()
    ) async throws(CorralError) -> T {
        var headers = HTTPHeaders()
        headers.set("Idempotency-Key", key)
        var delays = Self.submitRetryDelays[...]
        var leaderWaits = Self.leaderWaitDelays[...]
        var sent = false
        while true {
            let response: HTTPClientResponse
            do {
                response = try await http.execute(.post, path, body: body, headers: headers)
            } catch {
                let refused = error.code == .couldNotConnect
                sent = sent || !refused
                guard sent, error.code != .tls, error.code != .invalidURL, let delay = delays.popFirst() else {
                    throw CorralError(
                        kind: .unreachable,
                        message: "cannot reach the controller at \(endpoint): \(error.message)"
                    )
                }
                try? await Task.sleep(for: delay)
                continue
            }
            // No controller could act now (a failover under way, the database restarting): the key makes a
            // retry safe, so wait a little rather than fail.
            // A 307 is a standby that still names the leader it saw last, which did not answer.
            if didNothingForWantOfALeader(response, safeToRepeat: true), let delay = leaderWaits.popFirst() {
                try? await Task.sleep(for: delay)
                continue
            }
            guard (200..<300).contains(response.status) else { throw CorralError(response: response) }
            do {
                return try WireJSON.decode(T.self, from: response.body)
            } catch {
                throw CorralError(kind: .protocolError, message: "unexpected answer from \(endpoint): \(error)")
            }
        }
    }
}
