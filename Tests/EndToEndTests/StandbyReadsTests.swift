import ClusterCore
import ClusterWire
import Foundation
import Glibc
import HTTPKit
import TestSupport
import Testing

/// A standby answers the user API's reads itself (issue 19), with the real binaries on a real PostgreSQL server:
/// jobs (by full id, a start, an end, an array's id), their events, logs and explanations, nodes, queues, usage,
/// tokens, the dashboard; each compared with the leader's answer to the same request. What changes on the leader
/// shows on the standby within a second or two (a drain, a revoked token); writes, the agents' protocol and a
/// node's utilization history go to the leader; a standby's /metrics says it stands by.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct StandbyReadsTests {
    struct Setup {
        let cluster: TestCluster
        let standbyPort: Int
        var tokens: [String: String]

        func ask(
            _ method: HTTPMethod,
            _ path: String,
            as user: String?,
            leader: Bool = false
        ) async throws -> HTTPClientResponse {
            let client = HTTPClient(
                configuration: HTTPClientConfiguration(
                    baseURL: "http://127.0.0.1:\(leader ? cluster.port : standbyPort)",
                    bearerToken: user.flatMap { tokens[$0] }
                )
            )
            return try await client.execute(method, path)
        }

        /// The same GET from the standby and from the leader, both 200, decoded.
        func both<T: Decodable>(_ type: T.Type, _ path: String, as user: String) async throws -> (T, T) {
            let (here, there) = (try await ask(.get, path, as: user), try await ask(.get, path, as: user, leader: true))
            #expect(here.status == 200 && there.status == 200, "\(path): \(here.status) \(there.status)")
            return (
                try JSONDecoder.wire.decode(T.self, from: Data(here.body)),
                try JSONDecoder.wire.decode(T.self, from: Data(there.body))
            )
        }
    }

    /// A leader and a standby on one database, one agent with one GPU, tokens for ana and bo (and the admin).
    static func start() async throws -> (Setup, Process) {
        let cluster = try TestCluster()
        let flags = try PostgresFailoverTests.databaseFlags(cluster)
        try await cluster.startController(extra: flags)
        let port = try TestPostgres.freePort()
        let standby = try await PostgresFailoverTests.startStandby(cluster, flags: flags, port: port, name: "standby")
        try await cluster.startAgent("node-a", gpus: 1)
        try await cluster.configureCLI()
        var tokens = ["admin": cluster.adminToken.trimmed]
        for user in ["ana", "bo"] {
            let created = try await cluster.corral(["tokens", "create", "--user", user, "--json"])
            tokens[user] = try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
        }
        let log = cluster.read(cluster.root + "/standby.log")
        #expect(!log.contains("cannot read the cluster"), "\(log)")
        return (Setup(cluster: cluster, standbyPort: port, tokens: tokens), standby)
    }

    @Test func aStandbyAnswersAJobsReadsAsTheLeaderDoes() async throws {
        let (setup, standby) = try await Self.start()
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        let cluster = setup.cluster
        let ana = ["CORRAL_TOKEN": setup.tokens["ana"]!]
        let array = try await cluster.corral(["submit", "--array", "0-2", "--", "true"], env: ana)
        #expect(array.status == 0, "\(array.stderr)")
        let id = try await cluster.corral(["submit", "--", "echo", "hi"], env: ana).stdout.trimmed
        _ = try await cluster.waitForState(id, ["SUCCEEDED"])
        try await waitUntil("the array has ended", timeout: 30) {
            try await cluster.jobs().allSatisfy { $0.state == "SUCCEEDED" }
        }
        // The listing, as the leader pages it: the same jobs, the array on one line with the same counts.
        for path in ["/v1/jobs?collapse=arrays", "/v1/jobs?limit=2", "/v1/jobs?state=SUCCEEDED&limit=1000"] {
            let (mine, theirs) = try await setup.both(JobListResponse.self, path, as: "ana")
            #expect(mine.jobs.map(\.id) == theirs.jobs.map(\.id) && mine.nextCursor == theirs.nextCursor, "\(path)")
            #expect(mine.jobs.map(\.arraySummary) == theirs.jobs.map(\.arraySummary), "\(path)")
        }
        #expect(try await setup.ask(.get, "/v1/jobs?limit=0", as: "ana").status == 400)
        // A job by its full id, a start of it, an end of it (the leader's memory index, in the standby's copy,
        // which is read again when it is a second old), and an array by its own id: the same job, the same counts.
        let arrayID = array.stdout.trimmed
        try await waitUntil("the standby's copy has the job", timeout: 5) {
            try await setup.ask(.get, "/v1/jobs/\(id.suffix(5))", as: "ana").status == 200
        }
        for name in [id, String(id.dropLast()), String(id.suffix(5)), arrayID] {
            let (mine, theirs) = try await setup.both(JobView.self, "/v1/jobs/\(name)", as: "ana")
            #expect(mine.id == theirs.id && mine.state == theirs.state, "\(name)")
            #expect(mine.arraySummary == theirs.arraySummary, "\(name)")
        }
        let (events, leaderEvents) = try await setup.both(EventListResponse.self, "/v1/jobs/\(id)/events", as: "ana")
        #expect(events.events.count >= 4 && events.events.map(\.reason) == leaderEvents.events.map(\.reason))
        #expect(
            String(decoding: try await setup.ask(.get, "/v1/whoami", as: "ana").body, as: UTF8.self).contains("ana")
        )
        let log = try await setup.ask(.get, "/v1/jobs/\(id)/logs", as: "ana")
        #expect(log.status == 200 && log.body == Array("hi\n".utf8) && log.headers["X-Corral-Log-Size"] == "3")
        #expect(try await setup.ask(.get, "/v1/jobs/\(id)/logs?offset=1", as: "ana").body == Array("i\n".utf8))
        // Errors are the leader's, word for word: another user's job reads like an unknown one, a bad attempt.
        for (path, user) in [
            ("/v1/jobs/\(id)", "bo"), ("/v1/jobs/zzzz9999", "ana"), ("/v1/jobs/\(id)/logs?attempt=9", "ana"),
            ("/v1/jobs/\(id)/logs?rank=-1", "ana"), ("/v1/jobs/%00", "ana"), ("/v1/usage?by=nothing", "admin"),
        ] {
            let (here, there) = (
                try await setup.ask(.get, path, as: user), try await setup.ask(.get, path, as: user, leader: true)
            )
            #expect(here.status == there.status && here.body == there.body && here.status >= 400, "\(path)")
        }
        // A job's own reads are never behind the leader: a job submitted a moment ago, and, once the standby's
        // copy holds a job and an array (read again for a read of the queues), the cancel of each just answered.
        let held = try await cluster.corral(["submit", "--hold", "--", "true"], env: ana).stdout.trimmed
        let fresh = try await setup.ask(.get, "/v1/jobs/\(held)", as: "ana")
        #expect(
            fresh.status == 200
                && (try? JSONDecoder.wire.decode(JobView.self, from: Data(fresh.body)))?.state == "QUEUED"
        )
        let later = try await cluster.corral(["submit", "--hold", "--array", "0-3", "--", "true"], env: ana).stdout
            .trimmed
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await setup.ask(.get, "/v1/queues", as: "ana").status == 200)
        #expect(try await cluster.corral(["cancel", held, "--yes"], env: ana).status == 0)
        #expect(try await cluster.corral(["cancel", later, "--yes"], env: ana).status == 0)
        let canceled = try await setup.ask(.get, "/v1/jobs/\(held)", as: "ana")
        #expect((try? JSONDecoder.wire.decode(JobView.self, from: Data(canceled.body)))?.state == "CANCELED")
        let (laterView, laterLeader) = try await setup.both(JobView.self, "/v1/jobs/\(later)", as: "ana")
        #expect(laterView.arraySummary == laterLeader.arraySummary && laterView.arraySummary?.states["CANCELED"] == 4)
        // No token (or one the standby does not know) and every write go to the leader.
        #expect(try await setup.ask(.get, "/v1/jobs/\(id)", as: nil).status == 307)
        #expect(try await setup.ask(.post, "/v1/jobs/\(id)/cancel", as: "ana").status == 307)
    }

    @Test func aStandbyAnswersNodesQueuesExplainUsageAndTokens() async throws {
        let (setup, standby) = try await Self.start()
        defer { if standby.isRunning { kill(standby.processIdentifier, SIGKILL) } }
        let cluster = setup.cluster
        // One job holds the node's GPU; another waits for it.
        let running = try await cluster.submit(["--gpus", "1"], ["sleep", "60"])
        _ = try await cluster.waitForState(running, ["RUNNING"])
        let waiting = try await cluster.submit(["--gpus", "1"], ["true"])
        // The copy the standby answers nodes and queues from is read again when a read finds it a second old.
        try await waitUntil("the standby's copy has both jobs", timeout: 5) {
            let view = try await setup.ask(.get, "/v1/queues", as: "admin")
            return try JSONDecoder.wire.decode(QueueListResponse.self, from: Data(view.body)).queues
                .reduce(0) { $0 + $1.pending } == 1
        }
        let (nodes, leaderNodes) = try await setup.both(NodeListResponse.self, "/v1/nodes", as: "admin")
        #expect(nodes.nodes.map(\.id) == ["node-a"] && leaderNodes.nodes.map(\.id) == ["node-a"])
        for (mine, theirs) in zip(nodes.nodes, leaderNodes.nodes) {
            #expect(mine.status == theirs.status && mine.gpusUsed == theirs.gpusUsed && mine.gpusUsed == 1)
            #expect(mine.cpusUsed == theirs.cpusUsed && mine.memoryUsed == theirs.memoryUsed)
            #expect(mine.gpus.map(\.uuid) == theirs.gpus.map(\.uuid) && mine.drained == theirs.drained)
        }
        let (node, _) = try await setup.both(NodeView.self, "/v1/nodes/node-a", as: "ana")
        #expect(node.gpusUsed == 1)
        let (queues, leaderQueues) = try await setup.both(QueueListResponse.self, "/v1/queues", as: "ana")
        #expect(queues.queues.map(\.name) == leaderQueues.queues.map(\.name))
        #expect(queues.queues.map(\.pending) == leaderQueues.queues.map(\.pending))
        #expect(queues.queues.map(\.running) == leaderQueues.queues.map(\.running))
        #expect(queues.queues.reduce(0) { $0 + $1.gpusInUse } == 1)
        let (explain, leaderExplain) = try await setup.both(
            ExplainResponse.self,
            "/v1/jobs/\(waiting)/explain",
            as: "admin"
        )
        #expect(explain.nodes == leaderExplain.nodes && explain.state == "QUEUED")
        #expect(explain.nodes.first?.detail.contains("0 of 1") == true, "\(explain.nodes)")
        let (usage, leaderUsage) = try await setup.both(UsageResponse.self, "/v1/usage?by=user", as: "admin")
        #expect(
            usage.rows.map(\.key) == leaderUsage.rows.map(\.key)
                && usage.rows.map(\.jobs) == leaderUsage.rows.map(\.jobs)
        )
        let (tokens, leaderTokens) = try await setup.both(TokenListResponse.self, "/v1/tokens", as: "admin")
        #expect(tokens.tokens.map(\.prefix) == leaderTokens.tokens.map(\.prefix) && tokens.tokens.count >= 3)
        // The dashboard's page and the API's document; a node's utilization (the leader's memory) is the leader's.
        #expect(try await setup.ask(.get, "/", as: nil).status == 200)
        #expect(try await setup.ask(.get, "/v1/openapi.json", as: nil).status == 200)
        #expect(try await setup.ask(.get, "/favicon.ico", as: nil).status == 404)
        #expect(try await setup.ask(.get, "/v1/nodes/node-a/utilization", as: "ana").status == 307)
        #expect(try await setup.ask(.get, "/v1/agents/node-a/assignments", as: "ana").status == 307)
        // /metrics: the standby says it stands by, the leader that it leads; the cluster's figures are the leader's.
        let metrics = String(decoding: try await setup.ask(.get, "/metrics", as: "ana").body, as: UTF8.self)
        #expect(metrics.contains("corral_controller_leader 0") && !metrics.contains("corral_jobs{"), "\(metrics)")
        #expect(metrics.contains("corral_standby_copy_read_seconds_count"))
        let leaderMetrics = String(
            decoding: try await setup.ask(.get, "/metrics", as: "ana", leader: true).body,
            as: UTF8.self
        )
        #expect(leaderMetrics.contains("corral_controller_leader 1") && leaderMetrics.contains("corral_jobs{"))
        // Without a user's token (Prometheus misconfigured), the standby still says only that it stands by: a
        // redirect to the leader would count the cluster twice.
        let anonymous = try await setup.ask(.get, "//metrics", as: nil)
        let line = String(decoding: anonymous.body, as: UTF8.self)
        #expect(anonymous.status == 200 && line.contains("corral_controller_leader 0") && !line.contains("corral_jobs"))

        // A drain on the leader shows on the standby within a second or two; a revoked token stops working there.
        #expect(try await setup.ask(.post, "/v1/nodes/node-a/drain", as: "admin", leader: true).status == 200)
        try await waitUntil("the standby shows the drain", timeout: 5) {
            let view = try await setup.ask(.get, "/v1/nodes/node-a", as: "admin")
            return try JSONDecoder.wire.decode(NodeView.self, from: Data(view.body)).drained
        }
        let bo = try #require(tokens.tokens.first { $0.user == "bo" })
        #expect(try await setup.ask(.get, "/v1/whoami", as: "bo").status == 200)
        #expect(try await setup.ask(.post, "/v1/tokens/\(bo.prefix)/revoke", as: "admin", leader: true).status == 200)
        try await waitUntil("the standby refuses the revoked token", timeout: 5) {
            try await setup.ask(.get, "/v1/whoami", as: "bo").status == 307
        }
        #expect(try await setup.ask(.get, "/v1/whoami", as: "bo", leader: true).status == 401)
        // However the path is spelled (the router drops empty segments): the revoked token reads nothing here.
        for path in ["//v1/whoami", "/v1//tokens", "//v1/jobs"] {
            #expect(try await setup.ask(.get, path, as: "bo").status == 307, "\(path)")
        }
        _ = try await cluster.corral(["cancel", running])
    }
}
