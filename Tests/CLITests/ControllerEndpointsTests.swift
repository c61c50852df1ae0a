import ClusterCore
import ClusterWire
import CorralClient
import HTTPKit
import Synchronization
import Testing

/// CorralClient with several controllers (issue 19), against real HTTP servers on loopback that play a standby,
/// a leader and a dead controller: the client moves on only where a request surely did nothing.
@Suite struct ControllerEndpointsTests {
    /// A controller stand-in: answers each request with `answer`, counting them.
    final class Stub: HTTPResponder, @unchecked Sendable {
        let count = Mutex(0)
        let answer: @Sendable (HTTPRequest, Int) -> HTTPResponse
        var server: HTTPServer?
        init(_ answer: @escaping @Sendable (HTTPRequest, Int) -> HTTPResponse) { self.answer = answer }

        func respond(to request: HTTPRequest) async throws -> HTTPResponse {
            answer(
                request,
                count.withLock {
                    $0 += 1
                    return $0
                }
            )
        }

        func start() throws -> String {
            var configuration = HTTPServerConfiguration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            let server = HTTPServer(configuration: configuration, responder: self)
            try server.start()
            self.server = server
            return "http://127.0.0.1:\(server.port)"
        }
    }

    static let me = WireJSON.encode(WhoAmIResponse(user: "ana", role: "user", tokenPrefix: "cru_x", expiresAt: nil))

    /// A port nothing listens on: a server started and stopped.
    static func deadEndpoint() async throws -> String {
        let stub = Stub { _, _ in .text("") }
        let url = try stub.start()
        stub.server?.shutdown()
        await stub.server?.waitUntilStopped()
        return url
    }

    @Test func aDeadControllerAndAStandbyLeadToTheLeader() async throws {
        let leader = Stub { _, _ in .json(Self.me) }
        let leaderURL = try leader.start()
        defer { leader.server?.shutdown() }
        let standby = Stub { request, _ in
            var response = HTTPResponse.error(HTTPStatus(code: 307), code: "not_leader", message: "standby")
            response.headers.set("Location", leaderURL + request.path)
            return response
        }
        let standbyURL = try standby.start()
        defer { standby.server?.shutdown() }
        let dead = try await Self.deadEndpoint()
        let client = CorralClient(endpoint: "\(dead), \(standbyURL),\(leaderURL)", token: "t")
        #expect(try await client.whoami().user == "ana")
        #expect(standby.count.withLock { $0 } == 1 && leader.count.withLock { $0 } == 1)
        // The next request goes straight to the one that answered.
        #expect(try await client.whoami().user == "ana")
        #expect(standby.count.withLock { $0 } == 1 && leader.count.withLock { $0 } == 2)
    }

    @Test func anErrorThatMayHaveDoneSomethingIsNotSentElsewhere() async throws {
        let failing = Stub { _, _ in .error(.internalServerError, code: "internal", message: "boom") }
        let failingURL = try failing.start()
        defer { failing.server?.shutdown() }
        let other = Stub { _, _ in .json(Self.me) }
        let otherURL = try other.start()
        defer { other.server?.shutdown() }
        let client = CorralClient(endpoint: "\(failingURL),\(otherURL)", token: "t")
        let error = await #expect(throws: CorralError.self) { try await client.whoami() }
        #expect(error?.message == "boom")
        #expect(other.count.withLock { $0 } == 0)
    }

    /// While no controller leads, a submission is asked again (with the same Idempotency-Key) until one does.
    @Test func aSubmissionWaitsOutAFailover() async throws {
        let keys = Mutex<Set<String>>([])
        let leader = Stub { request, count in
            keys.withLock { _ = $0.insert(request.headers["Idempotency-Key"] ?? "") }
            guard count > 3 else {
                return .error(.serviceUnavailable, code: "no_leader", message: "no controller leads now")
            }
            let job = JobView(
                Job(
                    id: JobID("ab12"),
                    spec: JobSpec(command: ["true"]),
                    user: "ana",
                    submittedAt: .init(milliseconds: 0)
                )
            )
            return .json(WireJSON.encode(job), status: .created)
        }
        let url = try leader.start()
        defer { leader.server?.shutdown() }
        let client = CorralClient(endpoint: url, token: "t")
        let job = try await client.submit(SubmitJobRequest(command: ["true"]))
        #expect(job.id == "ab12")
        #expect(leader.count.withLock { $0 } == 4)
        #expect(keys.withLock { $0.count } == 1, "every try carried the same key")
    }

    /// Reads and other requests wait out a failover too (nothing was done while no controller could act); an
    /// error that may have done something is not asked again.
    @Test func aReadWaitsOutAFailoverAndAnErrorDoesNot() async throws {
        let leader = Stub { _, count in
            count > 2 ? .json(Self.me) : .error(.serviceUnavailable, code: "not_leader", message: "cannot confirm")
        }
        let url = try leader.start()
        defer { leader.server?.shutdown() }
        #expect(try await CorralClient(endpoint: url, token: "t").whoami().user == "ana")
        #expect(leader.count.withLock { $0 } == 3)
        let broken = Stub { _, _ in .error(.serviceUnavailable, code: "draining", message: "not now") }
        let brokenURL = try broken.start()
        defer { broken.server?.shutdown() }
        await #expect(throws: CorralError.self) { try await CorralClient(endpoint: brokenURL, token: "t").whoami() }
        #expect(broken.count.withLock { $0 } == 1)
        // The database away: a read is asked again, a write (that may have been stored) is not.
        let away = Stub { request, count in
            guard request.method == .get, count > 1 else {
                return .error(.serviceUnavailable, code: "database_unavailable", message: "out of reach")
            }
            return .json(Self.me)
        }
        let awayURL = try away.start()
        defer { away.server?.shutdown() }
        #expect(try await CorralClient(endpoint: awayURL, token: "t").whoami().user == "ana")
        #expect(away.count.withLock { $0 } == 2)
        await #expect(throws: CorralError.self) { try await CorralClient(endpoint: awayURL, token: "t").cancel("ab12") }
        #expect(away.count.withLock { $0 } == 3, "the cancel was sent once")
        // A standby alone, naming a leader this client was not told of: said at once, not waited on.
        let standby = Stub { request, _ in
            var response = HTTPResponse.error(HTTPStatus(code: 307), code: "not_leader", message: "standby")
            response.headers.set("Location", "http://127.0.0.1:9/" + request.path)
            return response
        }
        let standbyURL = try standby.start()
        defer { standby.server?.shutdown() }
        await #expect(throws: CorralError.self) { try await CorralClient(endpoint: standbyURL, token: "t").whoami() }
        #expect(standby.count.withLock { $0 } == 1)
    }
}
