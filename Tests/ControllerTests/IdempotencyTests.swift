import ClusterCore
import ClusterStore
import ClusterWire
import CorralSupport
import Foundation
import HTTPKit
import Testing

@testable import ControllerKit

/// `Idempotency-Key` on `POST /v1/jobs` (issue 16), through the real router, state actor and SQLite file: a
/// retry gets the job its first try made, across a controller restart; another body is a 422; keys are each
/// user's own; a malformed key is a 400 and stores nothing.
@Suite struct IdempotencyTests {
    static func post(
        _ fixture: APIFixture,
        _ body: String,
        key: String?,
        token: String
    ) async throws -> HTTPResponse {
        try await fixture.post("/v1/jobs", body, key: key, token: token)
    }

    static func jobID(_ response: HTTPResponse) throws -> String {
        try JSONDecoder.wire.decode(JobView.self, from: Data(response.body)).id
    }

    @Test func aRetryGetsTheSameJobAndAnotherBodyIsRefused() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let alice = try await fixture.credentials.createToken(user: "alice", kind: .user, expiresIn: nil).0
        let bob = try await fixture.credentials.createToken(user: "bob", kind: .user, expiresIn: nil).0
        let body = #"{"command":["sleep","1"],"gpus":0}"#
        let first = try await Self.post(fixture, body, key: "k-1", token: alice)
        #expect(first.status == .created)
        let again = try await Self.post(fixture, body, key: "k-1", token: alice)
        let firstID = try Self.jobID(first)
        #expect(again.status == .created)
        #expect(try Self.jobID(again) == firstID)
        let other = try await Self.post(fixture, #"{"command":["true"]}"#, key: "k-1", token: alice)
        #expect(
            other.status == .unprocessableContent
                && String(decoding: other.body, as: UTF8.self).hasPrefix("idempotency_key_reused:")
        )
        // Another user's key of the same text is another key.
        let bobs = try await Self.post(fixture, body, key: "k-1", token: bob)
        #expect(bobs.status == .created)
        #expect(try Self.jobID(bobs) != firstID)
        // Without a key, every post is a new job.
        let plain1 = try await Self.post(fixture, body, key: nil, token: alice)
        let plain2 = try await Self.post(fixture, body, key: nil, token: alice)
        let plainID = try Self.jobID(plain1)
        #expect(try Self.jobID(plain2) != plainID)
        for bad in ["", String(repeating: "x", count: 256), "a b", "k\u{7F}", "ключ"] {
            let refused = try await Self.post(fixture, body, key: bad, token: alice)
            #expect(refused.status == .badRequest, "\(bad)")
        }
        let (jobs, _) = try await fixture.state.list(
            ClusterState.ListQuery(limit: 1000),
            for: Principal(kind: .admin, subject: "root")
        )
        #expect(jobs.count == 4, "a replay and a refusal store nothing: \(jobs.map(\.id))")
        // An array's key answers with the same array.
        let arrayBody = #"{"command":["true"],"array":"0-3"}"#
        let array = try JSONDecoder.wire.decode(
            ArraySubmitResponse.self,
            from: Data(try await Self.post(fixture, arrayBody, key: "a-1", token: alice).body)
        )
        let arrayAgain = try JSONDecoder.wire.decode(
            ArraySubmitResponse.self,
            from: Data(try await Self.post(fixture, arrayBody, key: "a-1", token: alice).body)
        )
        #expect(array.arrayId == arrayAgain.arrayId && arrayAgain.tasks == 4)
    }

    @Test func concurrentRetriesOfOneKeyMakeOneJob() async throws {
        let fixture = try await APIFixture.make()
        defer { fixture.remove() }
        let alice = try await fixture.credentials.createToken(user: "alice", kind: .user, expiresIn: nil).0
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try Self.jobID(try await Self.post(fixture, #"{"command":["true"]}"#, key: "same", token: alice))
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
    }

    @Test func storedKeysAreLoadedAndForgottenAfterADay() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("idem-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/corral.db"
        let now = Timestamp(milliseconds: 1_800_000_000_000)
        do {
            let database = try ClusterDatabase(path: path)
            try database.insertIdempotencyKey(
                IdempotencyRecord(user: "alice", key: "old", requestHash: "h", job: JobID("aaaaaaaaaa"), createdAt: now)
            )
            try database.insertIdempotencyKey(
                IdempotencyRecord(
                    user: "alice",
                    key: "new",
                    requestHash: "h",
                    job: JobID("bbbbbbbbbb"),
                    createdAt: now + .seconds(86_000)
                )
            )
        }
        let kept = try ClusterDatabase(path: path).loadIdempotencyKeys(since: now + .seconds(3600))
        #expect(kept.map(\.key) == ["new"] && kept.first?.job == JobID("bbbbbbbbbb"))
        // The old row is gone from the file too.
        #expect(try ClusterDatabase(path: path).loadIdempotencyKeys(since: .zero).map(\.key) == ["new"])
    }
}
