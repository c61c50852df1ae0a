import ClusterWire
import Foundation
import Glibc
import HTTPKit
import Testing

/// The dashboard (`GET /`) against the real controller. No browser runs on this machine: what is checked is
/// what a browser would get (status, types, security headers), that the script builds no markup from data,
/// that every endpoint and field the script reads exists in the API's real answers, and (with Node.js, which
/// `./bootstrap qa` installs) the real script run against the real controller on a minimal stand-in DOM.
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
        let paths = Self.literals(in: script, after: #"api(""#)
        #expect(
            Set(paths) == ["/v1/whoami", "/v1/jobs?limit=100&collapse=arrays", "/v1/nodes", "/v1/queues", "/v1/jobs/"]
        )
        var answers: [String: String] = [:]
        for path in paths {
            let full = path == "/v1/jobs/" ? path + id : path
            let response = try await client.execute(.get, full)
            #expect(response.status == 200, "\(full)")
            answers[path] = String(decoding: response.body, as: UTF8.self)
        }
        let logs = try await client.execute(.get, "/v1/jobs/\(id)/logs")
        #expect(String(decoding: logs.body, as: UTF8.self) == "<b>hi</b>\n")
        // The fields each variable of the script holds, by the API's types (optional fields included).
        let decoder = JSONDecoder.wire
        let jobs = try decoder.decode(
            JobListResponse.self,
            from: Data(answers["/v1/jobs?limit=100&collapse=arrays"]!.utf8)
        ).jobs
        let nodes = try decoder.decode(NodeListResponse.self, from: Data(answers["/v1/nodes"]!.utf8)).nodes
        let queues = try decoder.decode(QueueListResponse.self, from: Data(answers["/v1/queues"]!.utf8)).queues
        let me = try decoder.decode(WhoAmIResponse.self, from: Data(answers["/v1/whoami"]!.utf8))
        let types: [String: any Sendable] = [
            "me": me, "j": try #require(jobs.first), "job": try #require(jobs.first), "n": try #require(nodes.first),
            "g": try #require(nodes.first?.gpus.first), "q": try #require(queues.first),
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
            let name = String(piece.prefix { $0.isLetter || $0 == "_" })
            let after = piece.dropFirst(name.count).first
            guard !name.isEmpty, after != "(", name.first!.isLowercase else { continue }
            found.append(name)
        }
        return found
    }

    /// The real dashboard.js under Node.js against the real controller: a stand-in for the few DOM calls the
    /// script makes (getElementById, createElement, textContent, replaceChildren, listeners) and
    /// sessionStorage; fetch is Node's own, sent to the controller.
    @Test func theScriptShowsTheClusterWithAGoodTokenAndAsksAgainAfterABadOne() async throws {
        let cluster = try TestCluster()
        try await cluster.startController()
        try await cluster.startAgent("node", gpus: 2)
        try await cluster.configureCLI()
        // About 110 KB of log: the page must show its tail, not its head.
        let id = try await cluster.submit(
            ["--gpus", "1", "--name", "dash"],
            ["sh", "-c", "echo '<b>hi</b>'; seq 1 20000"]
        )
        _ = try await cluster.waitForState(id, ["SUCCEEDED"])
        let waiting = try await cluster.submit(["--gpus", "8"], ["true"])
        let client = HTTPClient(configuration: HTTPClientConfiguration(baseURL: cluster.endpoint))
        let script = cluster.root + "/dashboard.js"
        try Data(try await client.execute(.get, "/dashboard.js").body).write(to: URL(fileURLWithPath: script))
        let harness = cluster.root + "/harness.js"
        try Self.harness.write(toFile: harness, atomically: true, encoding: .utf8)

        let shown = try await Self.node([harness, script, cluster.endpoint, cluster.adminToken, id])
        #expect(shown["mainHidden"] as? Bool == false && shown["loginHidden"] as? Bool == true)
        #expect(shown["who"] as? String == "admin (admin)")
        let summary = shown["summary"] as? [String] ?? []
        #expect(summary.contains("1 of 1 nodes ready") && summary.contains("0 of 2 GPUs in use"), "\(summary)")
        #expect(summary.contains("1 queued"))
        let jobs = shown["jobs"] as? [[String]] ?? []
        #expect(jobs.contains { $0.first == id && $0.contains("dash") && $0.contains("SUCCEEDED") }, "\(jobs)")
        #expect(jobs.contains { $0.first == waiting && $0.contains("QUEUED") && $0.contains("NoFeasibleNode") })
        let nodes = shown["nodes"] as? [[String]] ?? []
        #expect(nodes.first?.prefix(3) == ["node", "READY", "0/2"], "\(nodes)")
        #expect((shown["queues"] as? [[String]])?.first?.first == "default")
        #expect((shown["jobTitle"] as? String)?.hasPrefix("Job \(id) (dash): SUCCEEDED") == true)
        let log = shown["jobLog"] as? String ?? ""
        #expect(
            log.hasSuffix("\n19999\n20000\n") && log.utf8.count <= 65536 && log.utf8.count > 60000,
            "\(log.prefix(80))"
        )
        #expect(!log.contains("<b>hi</b>"), "the tail, not the head")
        #expect(shown["token"] as? String == cluster.adminToken, "kept in sessionStorage only")

        let refused = try await Self.node([harness, script, cluster.endpoint, "crl_not_a_token", id])
        #expect(refused["mainHidden"] as? Bool == true && refused["loginHidden"] as? Bool == false)
        #expect((refused["loginError"] as? String)?.contains("rejected") == true, "\(refused)")
        #expect(refused["token"] is NSNull, "a rejected token is forgotten")
    }

    static func node(_ arguments: [String]) async throws -> [String: Any] {
        let result = try await offPool { try TestCluster.runBlocking("/usr/bin/env", ["node"] + arguments, [:]) }
        #expect(result.status == 0, "node: \(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return object as? [String: Any] ?? [:]
    }

    static let harness = """
        "use strict";
        // Runs the dashboard script with a stand-in DOM against a real controller; prints what it showed.
        const fs = require("fs");
        const vm = require("vm");
        const [scriptPath, endpoint, token, jobID] = process.argv.slice(2);
        function makeElement(tag) {
          return {
            tag, textContent: "", hidden: false, className: "", value: "", children: [], listeners: {},
            appendChild(child) { this.children.push(child); return child; },
            replaceChildren(...children) { this.children = children; },
            addEventListener(type, listener) { this.listeners[type] = listener; },
            scrollIntoView() {},
          };
        }
        const elements = new Map();
        let ready = null;
        global.document = {
          getElementById(id) { if (!elements.has(id)) elements.set(id, makeElement("#" + id)); return elements.get(id); },
          createElement: makeElement,
          addEventListener(type, listener) { if (type === "DOMContentLoaded") ready = listener; },
        };
        const stored = new Map();
        global.sessionStorage = {
          getItem: (key) => (stored.has(key) ? stored.get(key) : null),
          setItem: (key, value) => stored.set(key, String(value)),
          removeItem: (key) => stored.delete(key),
        };
        const nodeFetch = global.fetch;
        global.fetch = (path, options) => nodeFetch(endpoint + path, options);
        global.setInterval = () => 0;
        vm.runInThisContext(fs.readFileSync(scriptPath, "utf8"));
        const byId = (id) => document.getElementById(id);
        const cellText = (td) => (td.children.length ? td.children[0].textContent : td.textContent);
        const rows = (id) => byId(id).children.map((tr) => tr.children.map(cellText));
        const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        (async () => {
          ready();
          byId("token").value = token;
          byId("login").listeners.submit({ preventDefault() {} });
          await pause(1500);
          const row = byId("jobs").children.find((tr) => cellText(tr.children[0]) === jobID);
          if (row) { row.children[0].children[0].listeners.click(); await pause(1000); }
          console.log(JSON.stringify({
            who: byId("who").textContent, status: byId("status").textContent,
            summary: byId("summary").children.map((span) => span.textContent),
            jobs: rows("jobs"), nodes: rows("nodes"), queues: rows("queues"),
            jobTitle: byId("job-title").textContent, jobLog: byId("job-log").textContent,
            mainHidden: byId("main").hidden, loginHidden: byId("login").hidden,
            loginError: byId("login-error").textContent, token: sessionStorage.getItem("corral-token"),
          }));
        })();

        """
}
