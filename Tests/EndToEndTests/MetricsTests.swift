import ClusterWire
import Foundation
import HTTPKit
import TestSupport
import Testing

/// /metrics with the real binaries (issue 17): a submission, a failure with a retry, a success and the passes
/// that placed them move the right counters and histograms; `promtool check metrics` (Debian's prometheus
/// package, which `./bootstrap qa` installs) accepts the page; the alert rules of docs/operations.md pass
/// `promtool check rules` and fire on made-up series (`promtool test rules`); every series the Grafana
/// dashboard in docs/ plots exists.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct MetricsEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The page, and each sample by its series as written (`name{a="b"}`).
    static func scrape(_ cluster: TestCluster) async throws -> (text: String, samples: [String: Double]) {
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.adminToken)
        )
        let response = try await client.execute(.get, "/metrics")
        #expect(response.status == 200)
        let text = String(decoding: response.body, as: UTF8.self)
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
        return (text, samples)
    }

    static func promtool(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let result = try TestCluster.runBlocking("/usr/bin/promtool", arguments, [:], input: input)
        return (result.status, result.stdout + result.stderr)
    }

    @Test func aSubmissionAFailureAndAPassMoveTheRightSeriesAndPromtoolAcceptsThePage() async throws {
        let cluster = try TestCluster()
        try await cluster.startController(extra: ["--retry-backoff", "0"])
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let before = try await Self.scrape(cluster).samples
        let failing = try await cluster.submit(["--gpus", "1", "--retries", "1"], ["sh", "-c", "exit 3"])
        let passing = try await cluster.submit(["--gpus", "1"], ["true"])
        #expect(try await cluster.waitForState(failing, ["FAILED", "SUCCEEDED"], timeout: 60).state == "FAILED")
        #expect(try await cluster.waitForState(passing, ["FAILED", "SUCCEEDED"], timeout: 60).state == "SUCCEEDED")
        let (text, after) = try await Self.scrape(cluster)
        func moved(_ series: String) -> Double { (after[series] ?? 0) - (before[series] ?? 0) }
        #expect(moved(#"corral_job_submissions_total{queue="default"}"#) == 2, "\(text)")
        #expect(moved(#"corral_jobs_ended_total{reason="exit_code",state="FAILED"}"#) == 1)
        #expect(moved(#"corral_jobs_ended_total{reason="completed",state="SUCCEEDED"}"#) == 1)
        #expect(moved(#"corral_job_retries_total{budget="job"}"#) == 1)
        #expect(moved(#"corral_job_retries_total{budget="node_fault"}"#) == 0)
        // First placements only: the retry is not a second wait.
        #expect(moved(#"corral_queue_wait_seconds_count{queue="default"}"#) == 2)
        #expect(moved(#"corral_job_submit_to_running_seconds_count{queue="default"}"#) == 2)
        #expect(moved("corral_scheduling_pass_duration_seconds_count") >= 2)
        #expect(moved(#"corral_http_requests_total{code="201",route="POST /v1/jobs"}"#) == 2)
        let heartbeats = #"corral_agent_reports_total{kind="heartbeat"}"#
        try await waitUntil("a heartbeat is counted", timeout: 60) {
            (try await Self.scrape(cluster).samples[heartbeats] ?? 0) > (before[heartbeats] ?? 0)
        }
        #expect(moved(#"corral_agent_reports_total{kind="status"}"#) >= 4)
        // Buckets are cumulative and end with +Inf = count.
        let wait = #"corral_queue_wait_seconds_bucket{le="+Inf",queue="default"}"#
        #expect(after[wait] == after[#"corral_queue_wait_seconds_count{queue="default"}"#])
        #expect((after[#"corral_queue_wait_seconds_bucket{le="1",queue="default"}"#] ?? -1) <= (after[wait] ?? 0))
        // No series carries a job id: routes are patterns.
        #expect(!text.contains(failing) && text.contains(#"route="GET /v1/jobs/{id}""#))
        let check = try Self.promtool(["check", "metrics"], input: text)
        #expect(check.status == 0, "promtool check metrics: \(check.output)")
    }

    /// A job without output ships no log: the agent asks nothing of an empty file (the controller cannot hold a
    /// byte of it), and a job that writes still has its whole log shipped, then read back.
    @Test func aJobWithoutOutputSendsNoLogRequestAndOneWithOutputShipsItWhole() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 0)
        try await cluster.configureCLI()
        func logRequests() async throws -> Double {
            try await Self.scrape(cluster).samples.filter {
                $0.key.hasPrefix("corral_http_requests_total{") && $0.key.contains(#"POST /v1/allocations/{id}/logs"#)
            }.values.reduce(0, +)
        }
        let before = try await logRequests()
        let silent = try await cluster.submit([], ["true"])
        #expect(try await cluster.waitForState(silent, ["FAILED", "SUCCEEDED"], timeout: 60).state == "SUCCEEDED")
        #expect(try await logRequests() == before, "an empty log was sent")
        let silentLogs = try await cluster.corral(["logs", silent])
        #expect(silentLogs.status == 0 && silentLogs.stdout.isEmpty, "\(silentLogs.stderr)")
        let talking = try await cluster.submit([], ["sh", "-c", "echo one; sleep 0.4; echo two"])
        #expect(try await cluster.waitForState(talking, ["FAILED", "SUCCEEDED"], timeout: 60).state == "SUCCEEDED")
        #expect(try await logRequests() > before)
        let talkingLogs = try await cluster.corral(["logs", talking])
        #expect(talkingLogs.status == 0 && talkingLogs.stdout == "one\ntwo\n", "\(talkingLogs.stderr)")
    }

    @Test func theAlertRulesPassPromtoolAndFireOnMadeUpSeries() throws {
        let operations = try String(contentsOfFile: Self.repository + "/docs/operations.md", encoding: .utf8)
        let marked = try #require(operations.components(separatedBy: "<!-- alert-rules -->").dropFirst().first)
        let rules = try #require(
            marked.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first
        )
        try withTemporaryDirectory { directory in
            try rules.write(toFile: directory + "/alerts.yml", atomically: true, encoding: .utf8)
            let fixture = Self.repository + "/Tests/EndToEndTests/Fixtures/alerts-test.yml"
            try FileManager.default.copyItem(atPath: fixture, toPath: directory + "/alerts-test.yml")
            let check = try Self.promtool(["check", "rules", directory + "/alerts.yml"])
            #expect(check.status == 0 && check.output.contains("SUCCESS: 7 rules found"), "\(check.output)")
            let test = try Self.promtool(["test", "rules", directory + "/alerts-test.yml"])
            #expect(test.status == 0 && test.output.contains("SUCCESS"), "\(test.output)")
        }
    }

    @Test func everySeriesTheGrafanaDashboardPlotsExists() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let id = try await cluster.submit(["--gpus", "1"], ["true"])
        _ = try await cluster.waitForState(id, ["SUCCEEDED"])
        let text = try await Self.scrape(cluster).text
        var families = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            let name = String(parts[2])
            families.insert(name)
            if parts[3] == "histogram" {
                for suffix in ["_bucket", "_sum", "_count"] { families.insert(name + suffix) }
            }
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.repository + "/docs/grafana-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(panels.count >= 10)
        var plotted = Set<String>()
        for panel in panels {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let expr = try #require(target["expr"] as? String)
                for match in expr.matches(of: /corral_[a-z_]+/) { plotted.insert(String(match.output)) }
            }
        }
        #expect(!plotted.isEmpty)
        #expect(plotted.subtracting(families).isEmpty, "plotted, not exported: \(plotted.subtracting(families))")
    }
}
