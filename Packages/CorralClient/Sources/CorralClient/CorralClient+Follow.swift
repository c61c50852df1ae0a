extension CorralClient {
    /// Calls `output` with every new piece of the job's log until the job has finished and its log is all
    /// read (`corral logs -f`), from `start` (0: the beginning). Polls every `interval`.
    ///
    /// A controller that goes away (restarted, upgraded) is waited for, retrying with backoff for up to
    /// `patience`, and the follow goes on from where it was; `notice` hears about it, and about a job that
    /// waits for a reason other than free resources (NoFeasibleNode, Dependency...), instead of silence.
    public func followLogs(
        _ id: String,
        from start: Int = 0,
        attempt fixed: Int? = nil,
        rank: Int? = nil,
        every interval: Duration = .milliseconds(500),
        patience: Duration = .seconds(120),
        notice: (@Sendable (String) -> Void)? = nil,
        output: @Sendable ([UInt8]) -> Void
    ) async throws(CorralError) -> String {
        var offset = start
        var attempt = fixed
        var unreachableSince: ContinuousClock.Instant?
        var backoff: Duration = .milliseconds(250)
        var toldReason: String?
        while true {
            let chunk: LogChunk
            do {
                chunk = try await logs(id, offset: offset, attempt: attempt, rank: rank)
            } catch {
                guard error.kind == .unreachable || error.status == 502 || error.status == 503 else { throw error }
                let now = ContinuousClock.now
                if unreachableSince == nil {
                    unreachableSince = now
                    notice?("\(error.message): retrying for up to \(patience)")
                }
                guard let since = unreachableSince, now - since < patience else { throw error }
                try await Self.pause(backoff, id)
                backoff = min(backoff * 2, .seconds(5))
                continue
            }
            if unreachableSince != nil {
                notice?("the controller answers again: following \(id) on")
                unreachableSince = nil
                backoff = .milliseconds(250)
            }
            if attempt == nil, chunk.attempt > 0 { attempt = chunk.attempt }
            if let reason = chunk.reason, reason != toldReason, chunk.jobState == "QUEUED" {
                toldReason = reason
                if reason != "Resources" && reason != "Priority" {
                    notice?("job \(id) waits: \(reason) (corral explain \(id) says why)")
                }
            }
            if !chunk.bytes.isEmpty { output(chunk.bytes) }
            offset += chunk.bytes.count
            let finished = ["SUCCEEDED", "FAILED", "LOST", "CANCELED"].contains(chunk.jobState)
            if finished && offset >= chunk.size && chunk.bytes.isEmpty { return chunk.jobState }
            if offset < chunk.size { continue }
            try await Self.pause(interval, id)
        }
    }

    static func pause(_ interval: Duration, _ id: String) async throws(CorralError) {
        do {
            try await Task.sleep(for: interval)
        } catch {
            throw CorralError(kind: .canceled, message: "stopped following \(id)")
        }
    }
}
