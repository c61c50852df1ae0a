import ClusterWire
import Foundation
import Glibc
import HTTPKit
import Testing

/// The dashboard (`GET /`) against the real controller, without a browser: what a browser gets (status, types,
/// security headers), that the script builds no markup from data, and that every endpoint and field the script
/// reads exists in the API's real answers. DashboardBrowserTests runs the dashboard in a real Chromium.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DashboardTests {
    @Test func thePageItsScriptAndTheAPIAgree() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 1)
        try await cluster.configureCLI()
        let id = try await cluster.submit(["--gpus", "1", "--name", "dash"], ["echo", "<b>hi</b>"])
        _ = try await cluster.waitForState(id, ["SUCCEEDED"])

        let anonymous = HTTPClient(configuration: HTTPClientConfiguration(baseURL: cluster.endpoint))
        let page = try await anonymous.execute(.get, "/")
        #expect(page.status == 200)
        #expect(page.headers.values("Content-Type").first == "text/html; charset=utf-8")
        let policy = page.headers.values("Content-Security-Policy").first ?? ""
        #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"))
        #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
        #expect(page.headers.values("X-Content-Type-Options").first == "nosniff")
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains(#"<script src="/dashboard.js" defer></script>"#))
        #expect(!html.contains("<script>"), "no inline script")
        #expect(!html.contains(cluster.adminToken) && !html.contains(id), "the page holds no data")

        let scriptResponse = try await anonymous.execute(.get, "/dashboard.js")
        #expect(scriptResponse.status == 200)
        #expect(scriptResponse.headers.values("Content-Type").first == "text/javascript; charset=utf-8")
        let script = String(decoding: scriptResponse.body, as: UTF8.self)
        for unsafe in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            #expect(!script.contains(unsafe), "the script must not use \(unsafe)")
        }
        #expect((try await anonymous.execute(.get, "/dashboard.css")).status == 200)

        // Every endpoint it calls answers with the token; every field it reads is in the answer.
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.adminToken)
        )
        let literals = Set(Self.literals(in: script, after: "\"/v1/").map { "/v1/" + $0 })
        #expect(
            literals == [
                "/v1/whoami", "/v1/jobs?", "/v1/jobs/", "/v1/nodes", "/v1/nodes/", "/v1/queues",
                "/v1/jobs?state=ALLOCATED,STARTING,RUNNING&limit=1000",
            ],
            "\(literals.sorted())"
        )
        #expect(script.contains(#"api("/v1/jobs/" + enc(id) + "/events")"#))
        #expect(script.contains(#"api("/v1/nodes/" + enc(id) + "/utilization")"#))
        #expect(script.contains(#"const path = "/v1/jobs/" + enc(id) + "/logs";"#))
        let decoder = JSONDecoder.wire
        var answers: [String: String] = [:]
        for path in [
            "/v1/whoami", "/v1/jobs?limit=50&collapse=arrays&state=SUCCEEDED&name=dash", "/v1/jobs/\(id)",
            "/v1/jobs/\(id)/events", "/v1/jobs/\(id)/logs?offset=9007199254740991", "/v1/nodes", "/v1/nodes/node",
            "/v1/queues", "/v1/jobs?state=ALLOCATED,STARTING,RUNNING&limit=1000",
        ] {
            let response = try await client.execute(.get, path)
            #expect(response.status == 200, "\(path)")
            answers[path] = String(decoding: response.body, as: UTF8.self)
        }
        let history = try await client.execute(.get, "/v1/nodes/node/utilization")
        #expect(history.status == 200)
        // A history with a point (this node's declared GPU measures nothing), for the fields the chart reads.
        let sample = try decoder.decode(
            NodeUtilizationResponse.self,
            from: Data(
                #"{"node": "n", "bucket_seconds": 30, "gpus": [{"index": 0, "points": [{"at": "", "percent": 1}]}]}"#
                    .utf8
            )
        )
        let logs = try await client.execute(.get, "/v1/jobs/\(id)/logs")
        #expect(String(decoding: logs.body, as: UTF8.self) == "<b>hi</b>\n")
        let jobs = try decoder.decode(
            JobListResponse.self,
            from: Data(answers["/v1/jobs?limit=50&collapse=arrays&state=SUCCEEDED&name=dash"]!.utf8)
        ).jobs
        #expect(jobs.map(\.id) == [id], "the filters the page sends are the API's")
        let job = try decoder.decode(JobView.self, from: Data(answers["/v1/jobs/\(id)"]!.utf8))
        let events = try decoder.decode(EventListResponse.self, from: Data(answers["/v1/jobs/\(id)/events"]!.utf8))
        let nodes = try decoder.decode(NodeListResponse.self, from: Data(answers["/v1/nodes"]!.utf8)).nodes
        let queues = try decoder.decode(QueueListResponse.self, from: Data(answers["/v1/queues"]!.utf8)).queues
        let me = try decoder.decode(WhoAmIResponse.self, from: Data(answers["/v1/whoami"]!.utf8))
        // The fields each variable of the script holds, by the API's types (optional fields included).
        let types: [String: any Sendable] = [
            "me": me, "job": job, "n": try #require(nodes.first), "g": try #require(nodes.first?.gpus.first),
            "q": try #require(queues.first), "a": try #require(job.attempts.first),
            "x": try #require(job.attempts.first),
            "e": try #require(events.events.first), "data": sample, "series": try #require(sample.gpus.first),
            "point": try #require(sample.gpus.first?.points.first),
            "idle": try decoder.decode(IdleView.self, from: Data(#"{"since": "", "mean_utilization": 1}"#.utf8)),
        ]
        for (variable, value) in types {
            let known = Set(Mirror(reflecting: value).children.compactMap { $0.label.map(Self.snakeCase) })
            let used = Set(Self.fields(of: variable, in: script))
            #expect(!used.isEmpty, "the script reads no field of \(variable)")
            for field in used.subtracting(["length"]) {
                #expect(known.contains(field), "\(variable).\(field) is not a field of \(type(of: value))")
            }
        }
    }

    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }

    /// The string literals that follow `prefix` (e.g. `api("`) in the script.
    static func literals(in script: String, after prefix: String) -> [String] {
        script.components(separatedBy: prefix).dropFirst().compactMap {
            $0.split(separator: "\"").first.map(String.init)
        }
    }

    /// The snake_case fields read as `variable.field` (not method calls such as `gpus.length`).
    static func fields(of variable: String, in script: String) -> [String] {
        var found: [String] = []
        let pieces = script.components(separatedBy: variable + ".")
        for (index, piece) in pieces.enumerated().dropFirst() {
            // `variable` must stand alone: `log.length` is not a field `length` of `g`.
            if let previous = pieces[index - 1].last, previous.isLetter || previous.isNumber || previous == "_" {
                continue
            }
            let name = String(piece.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            let after = piece.dropFirst(name.count).first
            guard !name.isEmpty, after != "(", name.first!.isLowercase else { continue }
            found.append(name)
        }
        return found
    }
}
