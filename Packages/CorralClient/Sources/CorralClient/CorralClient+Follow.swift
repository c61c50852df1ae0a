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
        var toldReason: String?
        while true {
            let chunk = try await logsWaitingOut(
                id,
                offset: offset,
                attempt: attempt,
                rank: rank,
                patience: patience,
                notice: notice
            )
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

    /// `logs`, waiting out a controller that went away (restarted, upgraded): retried with backoff (250 ms
    /// doubling to 5 s) for up to `patience`, with a word to `notice` when it goes and when it is back.
    public func logsWaitingOut(
        _ id: String,
        offset: Int,
        attempt: Int?,
        rank: Int?,
        patience: Duration = .seconds(120),
        notice: (@Sendable (String) -> Void)? = nil
    ) async throws(CorralError) -> LogChunk {
        var unreachableSince: ContinuousClock.Instant?
        var backoff: Duration = .milliseconds(250)
        while true {
            let failure: CorralError
            do {
                let chunk = try await logs(id, offset: offset, attempt: attempt, rank: rank)
                if unreachableSince != nil { notice?("the controller answers again: following \(id) on") }
                return chunk
            } catch {
                failure = error
            }
            guard failure.kind == .unreachable || failure.status == 502 || failure.status == 503 else { throw failure }
            let now = ContinuousClock.now
            if unreachableSince == nil {
                unreachableSince = now
                notice?("\(failure.message): retrying for up to \(patience)")
            }
            guard let since = unreachableSince, now - since < patience else { throw failure }
            try await Self.pause(backoff, id)
            backoff = min(backoff * 2, .seconds(5))
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
