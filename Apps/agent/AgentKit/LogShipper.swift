import ClusterWire
import CorralSupport
import HTTPKit

/// Ships each allocation's log to the controller by offset (`POST /v1/allocations/{id}/logs?offset=N`) about
/// four times a second. The controller answers with the size it holds and keeps only bytes beyond it, so a
/// lost answer, an agent restart or a controller outage never doubles or drops a byte. An allocation is
/// shipped from `track` until it has ended and the controller holds its whole log.
actor LogShipper {
    private struct Log {
        /// Bytes the controller holds; nil until it has said.
        var shipped: Int?
        var ended = false
        /// The controller takes no more of it (its per-job cap, or it no longer knows the job).
        var unshippable = false
    }

    let logDir: String
    let log: any LogSink
    private let client: @Sendable () async -> HTTPClient
    private var logs: [String: Log] = [:]

    init(logDir: String, log: any LogSink, client: @escaping @Sendable () async -> HTTPClient) {
        self.logDir = logDir
        self.log = log
        self.client = client
    }

    func path(_ id: String) -> String { "\(logDir)/\(id).log" }

    func track(_ id: String) { if logs[id] == nil { logs[id] = Log() } }

    /// Stops tracking a log that will never have bytes (a launch that failed before its job started).
    func forget(_ id: String) { logs[id] = nil }

    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            for id in logs.keys.sorted() {
                guard !Task.isCancelled else { return }  // a shutdown waits for no controller
                _ = await ship(id)
            }
        }
    }

    /// After a job ends: ship until the controller has every byte (bounded: a controller outage does not hold
    /// the exit report back for long; `run` keeps going after it until the log is whole).
    func finish(_ id: String) async {
        track(id)
        logs[id]?.ended = true
        for _ in 0..<40 {
            if await ship(id) { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Ships what is new, from where the controller says it is; returns true when nothing is left to send (and
    /// then stops tracking an ended job's log).
    func ship(_ id: String) async -> Bool {
        guard let entry = logs[id] else { return true }
        if entry.unshippable { return done(id) }
        let offset = entry.shipped ?? 0
        let size = Files.size(path(id))
        let chunk = Files.read(path(id), from: offset, limit: 1 << 20, size: size)
        // Nothing to send: done, without asking. Before the first answer that holds for an empty file too: the
        // controller keeps only bytes this file had, so it holds none, and a job without output (most trivial
        // jobs) costs no request at all. Bytes that come later go from offset 0, and the answer says the rest.
        if chunk.isEmpty && (entry.shipped != nil || size == 0) { return done(id) }
        do {
            let response = try await client().execute(.post, "/v1/allocations/\(id)/logs?offset=\(offset)", body: chunk)
            guard response.status == 200 else {
                guard response.status == 404 else { return false }
                logs[id]?.unshippable = true  // the controller no longer knows it
                return done(id)
            }
            let size = try WireJSON.decode(LogAppendResponse.self, from: response.body).size
            logs[id]?.shipped = size
            // The controller holds less than this was sent from (another controller took over, or its logs were
            // restored from an older backup): it kept nothing; send again from what it holds.
            if size < offset { return false }
            if !chunk.isEmpty && size == offset {
                // Bytes sent and none kept: the log is at the controller's cap. Sending them again is futile.
                log.warning("allocation \(id): the controller keeps no more of this log (its size cap)")
                logs[id]?.unshippable = true
                return done(id)
            }
            guard chunk.isEmpty || size >= offset + chunk.count, Files.size(path(id)) <= size else { return false }
            return done(id)
        } catch {
            return false
        }
    }

    /// Nothing left to send now: an ended job's log is complete, so it is no longer tracked.
    private func done(_ id: String) -> Bool {
        if logs[id]?.ended == true { logs[id] = nil }
        return true
    }
}
