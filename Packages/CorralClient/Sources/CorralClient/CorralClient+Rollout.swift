public import ClusterWire
import HTTPKit

/// Admin: rolling updates of the agents (issue 20).
extension CorralClient {
    /// Starts updating the nodes' agents to a published version (nil: the newest), `maxParallel` at once.
    public func startRollout(_ request: RolloutRequest) async throws(CorralError) -> RolloutView {
        try await call(.post, "/v1/agent-rollout", body: WireJSON.encode(request))
    }

    /// The rollout running now, or the last one.
    public func rollout() async throws(CorralError) -> RolloutView {
        try await call(.get, "/v1/agent-rollout")
    }

    /// Starts no other node; those updating finish on their own.
    public func abortRollout() async throws(CorralError) -> RolloutView {
        try await call(.post, "/v1/agent-rollout/abort")
    }
}
