import ClusterWire
import HTTPKit

/// Requests that wait out a failover (issue 19): while no controller can act (a standby waits out the dead
/// leader's lease, 3 s by default; the new leader loads the cluster; the database restarts), an answer that
/// says the request did nothing (a standby's 307 to a leader that does not answer, a 503 `not_leader`,
/// `no_leader`, and for a read `database_unavailable`) is asked again every 250 ms for up to 15 s, so `corral` commands
/// during a failover take a few seconds more instead of failing. A 307 is waited out only with several
/// endpoints: with one, the standby names a leader this client was not told of, and says so at once.
extension CorralClient {
    /// `safeToRepeat`: a read, or a submission with its `Idempotency-Key`. A 503 `database_unavailable` says
    /// the database could not be reached, and a commit whose outcome is unknown may have been stored: only such a
    /// request is asked again after it. A standby's 307 and a 503 `not_leader` or `no_leader` come before any
    /// handler runs: any request is.
    func didNothingForWantOfALeader(_ response: HTTPClientResponse, safeToRepeat: Bool) -> Bool {
        if response.status == 307 { return http.urls.count > 1 }
        guard response.status == 503 else { return false }
        let code = ErrorEnvelope.code(in: response.body)
        return ["not_leader", "no_leader"].contains(code) || (safeToRepeat && code == "database_unavailable")
    }

    func executeWaitingForLeader(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil
    ) async throws(CorralError) -> HTTPClientResponse {
        var waits = Self.leaderWaitDelays[...]
        while true {
            let response: HTTPClientResponse
            do {
                response = try await http.execute(method, path, body: body)
            } catch {
                throw CorralError(
                    kind: .unreachable,
                    message: "cannot reach the controller at \(endpoint): \(error.message)"
                )
            }
            guard didNothingForWantOfALeader(response, safeToRepeat: method == .get), let delay = waits.popFirst()
            else { return response }
            try? await Task.sleep(for: delay)
        }
    }
}
