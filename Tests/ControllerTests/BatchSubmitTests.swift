import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import Foundation
import HTTPKit
import Testing

@testable import ControllerKit

/// `POST /v1/jobs/batch` (issue 16) through the real router, state actor and SQLite file: all or nothing, in
/// order, each entry checked as a single submission is, with its index named when it is refused.
@Suite struct BatchSubmitTests {
    static func post(
        _ fixture: APIFixture,
        _ body: String,
        key: String? = nil,
        token: String
    ) async throws -> HTTPResponse {
        try await fixture.post("/v1/jobs/batch", body, key: key, token: token)
    }

    static func count(_ fixture: APIFixture) async throws -> Int {
        try await fixture.state.list(ClusterState.ListQuery(limit: 1000), for: Principal(kind: .admin, subject: "root"))
            .0
            .count
    }

    @Test func manyJobsInOneRequestInOrderAndAllOrNothing() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let alice = try await fixture.credentials.createToken(user: "alice", kind: .user, expiresIn: nil).0
        let body =
            #"{"jobs":[{"command":["true"],"name":"a"},{"command":["true"],"name":"b","hold":true},{"command":["x"],"name":"c"}]}"#
        let response = try await Self.post(fixture, body, key: "batch-1", token: alice)
        #expect(response.status == .created)
        let jobs = try JSONDecoder.wire.decode(BatchSubmitResponse.self, from: Data(response.body)).jobs
        #expect(jobs.map(\.name) == ["a", "b", "c"] && jobs.allSatisfy { $0.user == "alice" })
        #expect(jobs[1].hold?.by == "alice" && jobs[0].hold == nil)
        // The same key and body: the same jobs, in order; nothing new stored.
        let again = try JSONDecoder.wire.decode(
            BatchSubmitResponse.self,
            from: Data(try await Self.post(fixture, body, key: "batch-1", token: alice).body)
        )
        #expect(again.jobs.map(\.id) == jobs.map(\.id))
        #expect(try await Self.count(fixture) == 3)
        // One bad entry refuses the batch, naming it; nothing is stored.
        let refusals: [(String, String)] = [
            (#"{"jobs":[{"command":["true"]},{"command":["true"],"gpus":-1}]}"#, "jobs[1].gpus"),
            (#"{"jobs":[{"command":["true"]},{"command":["true"],"queue":"nope"}]}"#, "jobs[1]: queue: unknown queue"),
            (#"{"jobs":[{"command":["true"],"array":"0-3"}]}"#, "jobs[0].array"),
            (#"{"jobs":[{"command":["true"],"priority":50}]}"#, "jobs[0]: priority 50 is above"),
            (#"{"jobs":[]}"#, "1 to 1000 jobs"),
            (#"{"jobs":[{"command":["true"]}],"extra":1}"#, "extra"),
            (#"{"jobs":{"command":["true"]}}"#, "invalid_request"),
            ("[", "invalid_request"),
        ]
        for (bad, why) in refusals {
            let refused = try await Self.post(fixture, bad, token: alice)
            let text = String(decoding: refused.body, as: UTF8.self)
            #expect(refused.status.code >= 400 && refused.status.code < 500 && text.contains(why), "\(bad): \(text)")
        }
        let tooMany =
            "{\"jobs\":[" + Array(repeating: #"{"command":["true"]}"#, count: 1001).joined(separator: ",") + "]}"
        #expect(try await Self.post(fixture, tooMany, token: alice).status == .badRequest)
        #expect(try await Self.count(fixture) == 3)
    }
}

/// A batch replayed after a restart gets its own jobs in order, by the ids stored with its key.
@Suite struct BatchReplayTests {
    @Test func aBatchKeyReplaysTheSameJobsAfterARestart() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let alice = Principal(kind: .user, subject: "alice")
        let entries = (0..<6).map {
            ClusterState.BatchEntry(spec: JobSpec(name: "b\($0)", command: ["true"]), hold: false)
        }
        let key = IdempotencyRequest(key: "batch-key", requestHash: "h")
        let first = try await fixture.state.submitBatch(entries, user: alice, unixUser: nil, idempotency: key)
        // Another user's job in the same millisecond, then a restart: jobs load sorted by time and id.
        _ = try await fixture.state.submitBatch(
            [ClusterState.BatchEntry(spec: JobSpec(command: ["true"]), hold: false)],
            user: Principal(kind: .user, subject: "bob"),
            unixUser: nil,
            idempotency: nil
        )
        var settings = ControllerConfiguration()
        settings.dataDir = fixture.directory
        let restarted = try await ClusterState(
            settings: settings,
            database: try ClusterDatabase(path: settings.databasePath),
            clock: fixture.clock,
            log: MemoryLog(),
            walSync: fixture.walSync
        )
        let again = try await restarted.submitBatch(entries, user: alice, unixUser: nil, idempotency: key)
        #expect(again.map(\.id) == first.map(\.id) && again.allSatisfy { $0.user == "alice" })
    }
}
