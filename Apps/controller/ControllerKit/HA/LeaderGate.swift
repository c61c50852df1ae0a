import HTTPKit
import Synchronization

/// Whether this controller may answer as the leader now: only while the lease it last renewed is surely still
/// its own by this machine's steady clock (the renewal's start plus the lease, less a margin). A leader paused
/// past its lease (SIGSTOP, a frozen VM) finds it over the moment it runs again and answers nothing as the
/// leader until a renewal proves it still leads; its writes meanwhile are refused by the database's fence.
final class LeaderGate: Sendable {
    private struct State {
        var epoch: Int64?
        var validUntil: ContinuousClock.Instant?
        var leader: String?
    }

    private let state = Mutex(State())
    /// Taken off each lease, for the clocks' rates and a renewal's round trip.
    static let margin = Duration.milliseconds(250)

    var isServing: Bool {
        state.withLock { state in state.validUntil.map { ContinuousClock.now < $0 } ?? false }
    }

    var epoch: Int64? { state.withLock { $0.epoch } }

    /// Where the leader is, as the lease row says (nil: unknown, or this controller).
    var leader: String? { state.withLock { $0.leader } }

    /// A renewal (or the acquisition) of `epoch` that began at `start` succeeded.
    func renewed(epoch: Int64, startedAt start: ContinuousClock.Instant, lease: Duration) {
        state.withLock { state in
            state.epoch = epoch
            state.validUntil = start + lease - Self.margin
            state.leader = nil
        }
    }

    func sawLeader(_ address: String?) { state.withLock { $0.leader = address } }

    /// The leadership is over for this process (it resigned, or was deposed).
    func end() { state.withLock { $0.validUntil = nil } }
}

/// The API behind the gate: while this controller cannot be sure it leads, every request but `/healthz` gets a
/// 503 `not_leader` (clients retry, or try another controller), never an answer from memory that may be stale.
struct LeaderGated: HTTPResponder {
    let inner: any HTTPResponder
    let gate: LeaderGate

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        guard gate.isServing || request.path == "/healthz" else {
            var response = HTTPResponse.error(
                .serviceUnavailable,
                code: "not_leader",
                message: "this controller cannot confirm it still leads (its lease on the database ran out); "
                    + "retry, or ask another controller"
            )
            response.headers.set("Retry-After", "1")
            return response
        }
        return try await inner.respond(to: request)
    }
}

/// What a standby answers while another controller leads: `/healthz` says so, and every other request is sent
/// to the leader (307, the method and body kept) when the lease row names one, or refused with a 503
/// `no_leader` to retry while none leads.
struct StandbyResponder: HTTPResponder {
    let gate: LeaderGate

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        let leader = gate.leader
        if request.path == "/healthz" {
            let body = #"{"status":"standby","leader":"# + (leader.map { "\"" + $0 + "\"" } ?? "null") + "}"
            return .json(Array(body.utf8))
        }
        // Prometheus follows redirects: sent on to the leader, a scrape of the standby would count the cluster
        // twice. What a standby says without its copy of the cluster (`StandbyReads` says more): that it stands by.
        if request.path.split(separator: "/") == ["metrics"] && request.method == .get {
            return HTTPResponse(
                status: .ok,
                headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")]),
                body: Array(Self.metrics.utf8)
            )
        }
        guard let leader else {
            var response = HTTPResponse.error(
                .serviceUnavailable,
                code: "no_leader",
                message: "this controller is a standby and no controller leads now: retry in a moment"
            )
            response.headers.set("Retry-After", "1")
            return response
        }
        let query =
            request.query.isEmpty
            ? ""
            : "?"
                + request.query.map { Self.encoded($0.key) + "=" + Self.encoded($0.value) }.sorted()
                .joined(separator: "&")
        var response = HTTPResponse.error(
            HTTPStatus(code: 307),
            code: "not_leader",
            message: "this controller is a standby: the leader is \(leader)"
        )
        response.headers.set("Location", leader + request.path + query)
        return response
    }

    static let metrics = """
        # HELP corral_controller_leader 1 on the controller that leads, 0 on a standby.
        # TYPE corral_controller_leader gauge
        corral_controller_leader 0

        """

    /// Percent-encodes all but RFC 3986's unreserved characters.
    static func encoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (character.isLetter || character.isNumber || "-._~".contains(character)) {
                out.append(character)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// A responder that can be replaced while the server runs: a standby's server becomes the leader's without its
/// port ever closing (a client during a failover finds something to ask).
final class SwitchableResponder: HTTPResponder {
    private let current: Mutex<(responder: any HTTPResponder, leading: Bool)>

    init(_ initial: any HTTPResponder) { current = Mutex((initial, false)) }

    /// The leader's API, for good.
    func set(_ responder: any HTTPResponder) { current.withLock { $0 = (responder, true) } }

    /// A better standby's answers (its reads, once the database could be read), unless this controller leads.
    func offer(_ responder: any HTTPResponder) {
        current.withLock { current in if !current.leading { current.responder = responder } }
    }

    var leading: Bool { current.withLock { $0.leading } }

    func respond(to request: HTTPRequest) async throws -> HTTPResponse {
        try await current.withLock { $0.responder }.respond(to: request)
    }
}
