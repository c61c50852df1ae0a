import ClusterCore
import ClusterWire
import CorralSupport
import FoundationEssentials
import HTTPKit

/// `corral exec` sessions, in memory: what each ran, for whom, on which node, the output so far and how it
/// ended. A session the node has not answered within `pickupTimeout` ends with an error; ended sessions go
/// after `keepEnded`. Nothing here is stored: a session does not outlive the controller process (the command
/// itself, on the node, ends when its output can no longer be delivered).
actor ExecSessions {
    struct Session {
        let id: String
        let job: JobID
        let user: String
        let node: NodeID
        let createdAt: Timestamp
        var answered = false
        var output: [UInt8] = []
        /// Bytes dropped from the front once `maxOutput` was passed (offsets stay absolute).
        var dropped = 0
        var done = false
        var exitCode: Int32?
        var signal: Int32?
        var error: String?
        var endedAt: Timestamp?
    }

    static let pickupTimeout: Duration = .seconds(30)
    static let keepEnded: Duration = .seconds(300)
    static let maxOutput = 16 << 20
    /// Sessions not yet ended, per user.
    static let maxOpenPerUser = 16

    private var sessions: [String: Session] = [:]
    private var readers: [String: [CheckedContinuation<Void, Never>]] = [:]
    private let clock: any WallClock

    init(clock: any WallClock) { self.clock = clock }

    /// A new session, or nil when the user has `maxOpenPerUser` sessions not yet ended.
    func create(job: JobID, user: String, node: NodeID) -> String? {
        expire()
        guard sessions.values.filter({ $0.user == user && !$0.done }).count < Self.maxOpenPerUser else { return nil }
        let id = SecureRandom.token(prefix: "x", bytes: 12)
        sessions[id] = Session(id: id, job: job, user: user, node: node, createdAt: clock.now())
        return id
    }

    /// The session if `principal` may read it (its creator, or an admin); else nil, as for an unknown id.
    func session(_ id: String, for principal: Principal) -> Session? {
        guard let session = sessions[id], principal.isAdmin || session.user == principal.subject else { return nil }
        return session
    }

    /// Output from the node that runs the session; false when the session is unknown or not that node's.
    func append(_ id: String, from node: NodeID, _ report: ExecReport, bytes: [UInt8]) -> Bool {
        guard var session = sessions[id], session.node == node else { return false }
        guard !session.done else { return true }
        session.answered = true
        session.output += bytes
        if session.output.count > Self.maxOutput {
            let excess = session.output.count - Self.maxOutput
            session.output.removeFirst(excess)
            session.dropped += excess
        }
        if report.done {
            session.done = true
            session.exitCode = report.exitCode
            session.signal = report.signal
            session.error = report.error.map { String($0.prefix(1000)) }
            session.endedAt = clock.now()
        }
        sessions[id] = session
        wakeReaders(id)
        return true
    }

    /// The output from `offset`, waiting up to `wait` for some when there is none yet.
    func read(_ id: String, from offset: Int, wait: Duration) async -> ExecOutputResponse? {
        expire()
        let deadline = clock.now() + wait
        while true {
            guard var session = sessions[id] else { return nil }
            if !session.answered && !session.done && clock.now() - session.createdAt > Self.pickupTimeout {
                session.done = true
                session.error = "node \(session.node) did not start the command within 30 s"
                session.endedAt = clock.now()
                sessions[id] = session
            }
            let end = session.dropped + session.output.count
            if offset < end || session.done || clock.now() >= deadline {
                let start = max(offset, session.dropped) - session.dropped
                let bytes = start < session.output.count ? Array(session.output[start...]) : []
                return ExecOutputResponse(
                    data: Data(bytes).base64EncodedString(),
                    offset: max(offset, session.dropped) + bytes.count,
                    done: session.done,
                    exitCode: session.exitCode,
                    signal: session.signal,
                    error: session.error
                )
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                readers[id, default: []].append(continuation)
                Task { [weak self] in
                    try? await Task.sleep(for: .milliseconds(500))
                    await self?.wakeReaders(id)
                }
            }
        }
    }

    private func wakeReaders(_ id: String) {
        for reader in readers.removeValue(forKey: id) ?? [] { reader.resume() }
    }

    private func expire() {
        let now = clock.now()
        // Ended ones after `keepEnded`; one the node never answered after `pickupTimeout` and `keepEnded`;
        // one still running after a day (its node went away mid-command).
        sessions = sessions.filter { _, session in
            if let ended = session.endedAt { return now - ended < Self.keepEnded }
            if !session.answered { return now - session.createdAt < Self.pickupTimeout + Self.keepEnded }
            return now - session.createdAt < .seconds(86400)
        }
    }
}
