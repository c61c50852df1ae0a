import ClusterWire
import Foundation
import HTTPKit
import Synchronization
import Testing

/// `--notify URL` with the real binaries (issue 17): a small HTTP server in the test receives the controller's
/// posts. Started late, it still gets every event (the controller retries with backoff, and meanwhile answers
/// everything else at once); the posts carry no token; bad URLs are refused at submission.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct NotificationEndToEndTests {
    /// What the test's server received: each body, and whether any request had an Authorization header.
    final class Inbox: Sendable {
        let received = Mutex<[JobNotification]>([])
        let authorized = Mutex(false)
        let failFirst = Mutex(0)
    }

    static func server(port: Int, inbox: Inbox) throws -> HTTPServer {
        var router = Router()
        router.add(.post, "/hooks/{secret}") { request in
            if request.headers.values("Authorization").first != nil { inbox.authorized.withLock { $0 = true } }
            // A 503 first, as an overloaded receiver would answer: retried, not dropped.
            let fail = inbox.failFirst.withLock { count in
                defer { count = max(count - 1, 0) }
                return count > 0
            }
            if fail { return HTTPResponse(status: .serviceUnavailable) }
            let note = try JSONDecoder.wire.decode(JobNotification.self, from: Data(request.body))
            inbox.received.withLock { $0.append(note) }
            return HTTPResponse(status: .noContent)
        }
        var configuration = HTTPServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = port
        let server = HTTPServer(configuration: configuration, responder: router)
        try server.start()
        return server
    }

    @Test func startAndEndArriveEvenAtAReceiverThatIsDownAtFirst() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        // A port that nothing listens on yet: taken from a server stopped at once.
        let inbox = Inbox()
        let probe = try Self.server(port: 0, inbox: inbox)
        let port = probe.port
        probe.shutdown()
        let url = "http://127.0.0.1:\(port)/hooks/s3cr3t-path"
        let job = try await cluster.submit(["--gpus", "1", "--notify", url], ["sh", "-c", "sleep 1; exit 4"])
        let shown = try await cluster.corral(["show", job])
        #expect(
            shown.stdout.contains("http://127.0.0.1:\(port)/…") && !shown.stdout.contains("s3cr3t"),
            "\(shown.stdout)"
        )
        #expect(try await cluster.waitForState(job, ["FAILED"], timeout: 30).state == "FAILED")
        // The controller went on meanwhile: another job runs and ends while the receiver is down.
        let other = try await cluster.submit(["--gpus", "1"], ["true"])
        #expect(try await cluster.waitForState(other, ["SUCCEEDED"], timeout: 30).state == "SUCCEEDED")
        inbox.failFirst.withLock { $0 = 1 }
        let server = try Self.server(port: port, inbox: inbox)
        defer { server.shutdown() }
        try await waitUntil("both events arrive", timeout: 60) { inbox.received.withLock { $0.count } >= 2 }
        let notes = inbox.received.withLock { $0 }.sorted { $0.event > $1.event }
        #expect(notes.map(\.event) == ["started", "ended"], "\(notes)")
        #expect(notes.allSatisfy { $0.job.id == job && $0.job.user == "admin" })
        #expect(notes.last?.job.state == "FAILED" && notes.last?.job.exitCode == 4)
        #expect(notes.first?.job.state == "RUNNING" && notes.first?.job.node == "node")
        #expect(!inbox.authorized.withLock { $0 }, "a notification carries no token")
        // No duplicates later, and nothing for the job without --notify.
        try await Task.sleep(for: .seconds(1))
        #expect(inbox.received.withLock { $0.count } == 2)
        // A receiver that refuses for good (404 here: no such route) is given up at once and logged: by host
        // and cause, never the URL's path.
        let refused = try await cluster.submit(["--notify", "http://127.0.0.1:\(port)/gone/s3cr3t-two"], ["true"])
        _ = try await cluster.waitForState(refused, ["SUCCEEDED"], timeout: 30)
        try await waitUntil("the refused delivery is logged", timeout: 30) {
            cluster.read(cluster.root + "/controller.log").contains("not delivered: HTTP 404")
        }
        let log = cluster.read(cluster.root + "/controller.log")
        #expect(log.contains("to http://127.0.0.1:\(port)/…"), "\(log)")
        #expect(!log.contains("s3cr3t"), "the URL's path is never logged")
    }

    @Test func badURLsAreRefusedAtSubmissionAndTheUserDefaultApplies() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.configureCLI()
        for bad in ["ftp://example.com/", "https://user:pw@example.com/", "not a url", "https://"] {
            let result = try await cluster.corral(["submit", "--notify", bad, "--", "true"])
            #expect(result.status == 1 && result.stderr.contains("notify"), "\(bad): \(result.stderr)")
        }
        #expect(try await cluster.jobs().isEmpty, "a refused submission stores nothing")
        // The user's default (CORRAL_NOTIFY, or notify in ~/.corral/config.toml) goes with submit and run.
        let result = try await cluster.corral(
            ["submit", "--", "true"],
            env: ["CORRAL_NOTIFY": "https://hooks.example.com/x"]
        )
        let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await cluster.job(id).notify == "https://hooks.example.com/…")
    }
}
