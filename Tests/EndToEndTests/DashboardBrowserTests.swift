import ClusterWire
import Foundation
import HTTPKit
import Testing

/// The dashboard in a real headless Chromium (driven over the DevTools protocol, `Support/Browser.swift`)
/// against a live controller with two agents and jobs in every state but LOST: each view is visited, checked
/// for what must be on it and photographed (PNG, into a temporary directory, or `CORRAL_SCREENSHOTS` to keep
/// them); the owner cancels a running job from its page with the keyboard alone, an admin drains a node from
/// its page with the mouse, and what they did is checked through the API. A user sees no Drain button and not
/// another user's job. No JavaScript exception or console error (a CSP violation would be one) may occur.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DashboardBrowserTests {
    /// nvidia-smi for a node of two GPUs, their utilization from the file `util` ("A, B").
    static func standInNvidiaSMI(in directory: String) throws -> String {
        let path = directory + "/nvidia-smi"
        let script = """
            #!/bin/sh
            # Stand-in for nvidia-smi (no NVIDIA GPU here): two H100s, utilization from the file util.
            case "$1" in
            --query-gpu=*)
                read a b < \(directory)/util
                echo "0, GPU-00000000-0000-0000-0000-00000000000a, NVIDIA H100 80GB HBM3, 00000000:00:06.0, 81559, 710, $a, 39, 123.30, 0, Disabled, 580.159.04"
                echo "1, GPU-00000000-0000-0000-0000-00000000000b, NVIDIA H100 80GB HBM3, 00000000:00:07.0, 81559, 20010, $b, 41, 301.10, 0, Disabled, 580.159.04" ;;
            --query-compute-apps=*) ;;
            *) echo "unexpected arguments: $*" >&2; exit 2 ;;
            esac

            """
        try writeExecutable(path, script)
        try "12 87\n".write(toFile: directory + "/util", atomically: true, encoding: .utf8)
        return path
    }

    static func token(_ cluster: TestCluster, _ user: String) async throws -> String {
        let created = try await cluster.corral(["tokens", "create", "--user", user, "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        return try JSONDecoder.wire.decode(CreateTokenResponse.self, from: Data(created.stdout.utf8)).token
    }

    static func submit(_ cluster: TestCluster, _ token: String, _ arguments: [String]) async throws -> String {
        let result = try await cluster.corral(["submit"] + arguments, env: ["CORRAL_TOKEN": token])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.trimmed
    }

    /// What a screen reader and a keyboard need of the view shown: one heading of level 1, a label for every
    /// input, a name for every button and link, a caption for every table and a scope for every header cell,
    /// no id twice, and nothing made clickable that is not a control.
    static let audit = """
        (() => {
          const shown = (e) => e.getClientRects().length > 0;
          const problems = [];
          const headings = [...document.querySelectorAll("h1")].filter(shown);
          if (headings.length !== 1) problems.push(headings.length + " headings of level 1");
          for (const e of document.querySelectorAll("input, select, textarea")) {
            if (shown(e) && e.labels.length === 0 && !e.getAttribute("aria-label")) problems.push("no label: " + e.id);
          }
          for (const e of document.querySelectorAll("button, a")) {
            if (shown(e) && !(e.textContent.trim() || e.getAttribute("aria-label"))) problems.push("no name: " + e.id);
          }
          for (const e of document.querySelectorAll("table")) if (shown(e) && !e.caption) problems.push("no caption");
          for (const e of document.querySelectorAll("th")) {
            if (shown(e) && !e.scope) problems.push("no scope: " + e.textContent);
          }
          const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
          for (const id of new Set(ids)) if (ids.indexOf(id) !== ids.lastIndexOf(id)) problems.push("id twice: " + id);
          for (const e of document.querySelectorAll("[onclick], div[tabindex], span[tabindex], td[tabindex]")) {
            problems.push("clickable non-control: " + e.tagName);
          }
          return problems;
        })()
        """

    /// A screenshot of the view as it is, which must be a PNG of the window's width and some height, after the
    /// view passed the audit.
    static func shoot(_ browser: Browser, _ directory: String, _ name: String) async throws {
        let problems = try await browser.evaluate(audit) as? [String]
        #expect(problems == [], "\(name): \(problems ?? ["the audit did not run"])")
        let png = try await browser.screenshot(directory + "/\(name).png")
        #expect(png.count > 5000, "\(name).png is \(png.count) bytes")
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "\(name).png is no PNG")
        let width = png.count > 24 ? png[16..<20].reduce(0) { $0 << 8 | Int($1) } : 0
        let height = png.count > 24 ? png[20..<24].reduce(0) { $0 << 8 | Int($1) } : 0
        #expect(width == 1280 && height >= 600, "\(name).png is \(width)x\(height)")
    }

    @Test func everyViewInHeadlessChromiumWithJobsInEveryState() async throws {
        let cluster = try TestCluster()
        // GPUs under 90% for 3 s count as idle here (30 min at 5% by default): gpu-a's jobs are flagged.
        let config = cluster.root + "/controller.toml"
        try "idle_gpu_window = 3\nidle_gpu_threshold = 90\n".write(toFile: config, atomically: true, encoding: .utf8)
        try await cluster.startController(extra: ["--config", config])
        let tools = cluster.root + "/tools"
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        try await cluster.startAgent("gpu-a", gpus: 0, nvidiaSMI: try Self.standInNvidiaSMI(in: tools))
        try await cluster.configureCLI()
        let alice = try await Self.token(cluster, "alice")
        let bob = try await Self.token(cluster, "bob")
        // The idle job goes first, so onto gpu-a, the node that measures its GPUs (gpu-b's are declared).
        let idler = try await Self.submit(cluster, alice, ["--name", "idler", "--gpus", "1", "--", "sleep", "300"])
        #expect(try await cluster.waitForState(idler, ["RUNNING"]).node == "gpu-a")
        try await cluster.startAgent("gpu-b", gpus: 2)
        try await waitUntil("both nodes are READY with their GPUs", timeout: 30) {
            let nodes = try await cluster.corral(["nodes"])
            return nodes.stdout.components(separatedBy: "READY").count == 3 && !nodes.stdout.contains("0/0")
        }

        // Alice's jobs in every state but LOST, and one of Bob's.
        let markup = "<img src=x onerror=\"document.title='pwned'\"><b>done</b>"
        let done = try await Self.submit(cluster, alice, ["--name", "done", "--gpus", "1", "--", "echo", markup])
        let failed = try await Self.submit(cluster, alice, ["--name", "fails", "--", "sh", "-c", "echo no; exit 3"])
        let canceled = try await Self.submit(cluster, alice, ["--name", "dropped", "--hold", "--", "true"])
        let held = try await Self.submit(cluster, alice, ["--name", "held", "--hold", "--gpus", "1", "--", "true"])
        let waits = try await Self.submit(cluster, alice, ["--name", "waits", "--gpus", "8", "--", "true"])
        let ticker = try await Self.submit(
            cluster,
            alice,
            [
                "--name", "ticker", "--gpus", "1", "--", "sh", "-c",
                "i=0; while :; do echo tick-$i; i=$((i+1)); sleep 0.2; done",
            ]
        )
        let bobs = try await Self.submit(cluster, bob, ["--name", "bobs", "--gpus", "1", "--", "sleep", "300"])
        #expect(try await cluster.corral(["cancel", canceled, "--yes"]).status == 0)
        let expected = [
            done: "SUCCEEDED", failed: "FAILED", canceled: "CANCELED", held: "QUEUED", waits: "QUEUED",
            ticker: "RUNNING", idler: "RUNNING",
        ]
        for (id, state) in expected { _ = try await cluster.waitForState(id, [state]) }
        _ = try await cluster.waitForState(bobs, ["RUNNING"])
        try await waitUntil("the idle job is flagged", timeout: 30) { try await cluster.job(idler).idle != nil }

        let browser = try await Browser(profile: cluster.root + "/chromium", log: cluster.root + "/chromium.log")
        let shots = ProcessInfo.processInfo.environment["CORRAL_SCREENSHOTS"] ?? cluster.root + "/screenshots"
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let byID = { (id: String) in "document.getElementById('\(id)')" }

        // Sign-in: the token field has the focus; Alice types her token and presses Enter.
        try await browser.open(cluster.endpoint + "/")
        try await browser.waitFor("the sign-in view", "!\(byID("login-page")).hidden")
        #expect(try await browser.string("document.activeElement.id") == "token")
        try await Self.shoot(browser, shots, "sign-in")
        try await browser.type(alice)
        try await browser.press("Enter")

        // The jobs view: all of Alice's jobs with their states as text, not Bob's.
        try await browser.waitFor(
            "Alice's jobs are listed",
            "\(byID("jobs")).rows.length === \(expected.count)"
        )
        #expect(try await browser.string("\(byID("who")).textContent") == "Signed in as alice (user)")
        #expect(try await browser.string("document.activeElement.id") == "jobs-heading")
        let rows = try await browser.rows("jobs")
        for (id, state) in expected {
            #expect(rows.contains { $0.first == id && $0[4].hasPrefix(state) }, "\(id) \(state): \(rows)")
        }
        #expect(!rows.contains { $0.first == bobs }, "Bob's job is not Alice's to see")
        #expect(rows.first { $0.first == held }?.last == "Held")
        #expect(rows.first { $0.first == idler }?[4] == "RUNNINGIDLE", "an IDLE badge beside the state: \(rows)")
        #expect(rows.first { $0.first == done }?[4] == "SUCCEEDED")
        let summary = try await browser.string("\(byID("summary")).textContent")
        #expect(summary.contains("2 of 2 nodes ready") && summary.contains("of 4 GPUs in use"), "\(summary)")
        try await Self.shoot(browser, shots, "jobs")

        // Filters go to the server: the state FAILED (a click on Filter), then the name ticker (typed, Enter).
        _ = try await browser.evaluate("\(byID("filter-state")).value = 'FAILED'")
        try await browser.click("#filters button[type=submit]")
        let only = { (id: String) in
            "\(byID("jobs")).rows.length === 1 && \(byID("jobs")).rows[0].cells[0].textContent === '\(id)'"
        }
        try await browser.waitFor("the list narrows to FAILED", only(failed))
        #expect(try await browser.string("location.hash") == "#/jobs?state=FAILED")
        _ = try await browser.evaluate("\(byID("filter-state")).value = ''; \(byID("filter-name")).focus()")
        try await browser.type("tick")
        // A refresh while the form is being changed keeps to the filters sent.
        let updated = try await browser.string("\(byID("jobs-updated")).textContent")
        try await browser.waitFor("a refresh", "\(byID("jobs-updated")).textContent !== '\(updated)'", timeout: 30)
        #expect(try await browser.rows("jobs").map { $0.first ?? "" } == [failed])
        try await browser.type("er")
        try await browser.press("Enter")
        try await browser.waitFor("the list narrows to ticker", "location.hash === '#/jobs?name=ticker'")
        try await browser.waitFor("one row", only(ticker))
        #expect(try await browser.string("document.activeElement.id") == "filter-name", "a filter keeps the focus")

        // The running job's view, opened from its link: details, attempts, events, the log followed live.
        try await browser.click("a[data-key='job:\(ticker)']")
        try await browser.waitFor("the job's view", "\(byID("job-heading")).textContent === 'Job \(ticker) (ticker)'")
        #expect(try await browser.string("document.activeElement.id") == "job-heading")
        try await browser.waitFor("its attempt and events", "\(byID("job-attempts")).rows.length === 1")
        let attempt = try await browser.rows("job-attempts").first ?? []
        #expect(attempt.count == 9 && ["gpu-a", "gpu-b"].contains(attempt[1]) && attempt[3] == "RUNNING", "\(attempt)")
        let events = try await browser.rows("job-events")
        #expect(events.contains { $0[3] == "RUNNING" } && events.contains { $0[3] == "ALLOCATED" }, "\(events)")
        try await browser.waitFor("the log shows ticks", "\(byID("job-log")).textContent.includes('tick-3')")
        let ticks = "Math.max(...(\(byID("job-log")).textContent.match(/tick-(\\d+)/g) || []).map((t) => +t.slice(5)))"
        let first = try await browser.evaluate(ticks) as? Int ?? 0
        try await browser.waitFor("the log grows while the page is open", "\(ticks) >= \(first + 5)")
        let jobButtons = ["job-cancel", "job-hold", "job-release", "job-requeue"]
        #expect(try await browser.visible(jobButtons) == ["job-cancel", "job-requeue"])
        try await Self.shoot(browser, shots, "job")

        // Cancel with the keyboard: Enter on the button, the dialog's safe choice has the focus, Shift+Tab to
        // the other, Enter.
        _ = try await browser.evaluate("\(byID("job-cancel")).focus()")
        try await browser.press("Enter")
        try await browser.waitFor("the confirmation", "\(byID("confirm")).open")
        #expect(try await browser.string("document.activeElement.id") == "confirm-no")
        try await browser.press("Tab", shift: true)
        #expect(try await browser.string("document.activeElement.id") == "confirm-yes")
        try await browser.press("Enter")
        #expect(try await cluster.waitForState(ticker, ["CANCELED"]).state == "CANCELED")
        try await browser.waitFor(
            "the view shows it canceled",
            "\(byID("job-state")).textContent.startsWith('CANCELED') && \(byID("job-cancel")).hidden"
        )
        try await browser.waitFor("the log is complete", "\(byID("log-state")).textContent.includes('whole log')")
        #expect(try await browser.string("\(byID("status")).textContent").contains("Job \(ticker): cancel sent"))

        // The idle job's view says since when its GPUs are idle.
        _ = try await browser.evaluate("location.hash = '#/jobs/\(idler)'")
        try await browser.waitFor("the idle job", "\(byID("job-state")).textContent.startsWith('RUNNINGIDLE')")
        #expect(try await browser.string("\(byID("job-state")).textContent").contains("GPUs idle since"))

        // Markup in a log is text: shown as typed, no element made of it.
        _ = try await browser.evaluate("location.hash = '#/jobs/\(done)'")
        try await browser.waitFor("the finished job's log", "\(byID("log-state")).textContent.includes('whole log')")
        #expect(try await browser.string("\(byID("job-log")).textContent") == markup + "\n")
        #expect(try await browser.evaluate("document.querySelectorAll('img, b').length") as? Int == 0)
        #expect(try await browser.string("document.title") == "Job \(done) (done) - Corral")

        // A held job offers Release and Cancel; Bob's job is no job to Alice.
        _ = try await browser.evaluate("location.hash = '#/jobs/\(held)'")
        try await browser.waitFor("the held job", "\(byID("job-state")).textContent.startsWith('QUEUED: Held')")
        #expect(try await browser.visible(jobButtons) == ["job-cancel", "job-release"])
        _ = try await browser.evaluate("location.hash = '#/jobs/\(bobs)'")
        try await browser.waitFor("an error", "\(byID("error")).textContent.length > 0")
        #expect(try await browser.string("\(byID("job-details")).textContent").isEmpty)
        #expect(try await browser.visible(jobButtons) == [])

        // Alice sees the nodes but no Drain or Resume.
        _ = try await browser.evaluate("location.hash = '#/nodes'")
        try await browser.waitFor("the nodes", "\(byID("nodes")).rows.length === 2")
        #expect(try await browser.evaluate("document.querySelectorAll('#nodes-page button').length") as? Int == 0)
        _ = try await browser.evaluate("location.hash = '#/nodes/gpu-b'")
        try await browser.waitFor("gpu-b's view", "\(byID("node-gpus")).rows.length === 2")
        #expect(try await browser.visible(["node-drain", "node-resume"]) == [])

        // Forget the token; the admin signs in and sees Bob's job too.
        try await browser.click("#logout")
        try await browser.waitFor("the sign-in view", "!\(byID("login-page")).hidden")
        #expect(try await browser.evaluate("sessionStorage.length") as? Int == 0)
        try await browser.type(cluster.adminToken)
        try await browser.press("Enter")
        _ = try await browser.evaluate("location.hash = '#/jobs'")
        try await browser.waitFor("everyone's jobs", "\(byID("jobs")).textContent.includes('\(bobs)')")
        #expect(try await browser.string("\(byID("who")).textContent") == "Signed in as admin (admin)")
        // The list refreshes itself: a job submitted now shows up without a reload.
        let late = try await cluster.submit(["--name", "late", "--hold"], ["true"])
        try await browser.waitFor("the new job", "\(byID("jobs")).textContent.includes('\(late)')", timeout: 30)

        // Nodes, as an admin: a Drain button on each.
        _ = try await browser.evaluate("location.hash = '#/nodes'")
        try await browser.waitFor("nodes with actions", "document.querySelectorAll('#nodes button').length === 2")
        let nodes = try await browser.rows("nodes")
        #expect(nodes.map { $0.first ?? "" } == ["gpu-a", "gpu-b"] && nodes.allSatisfy { $0.last == "Drain" })
        #expect(nodes.first?[3] == "50%", "the mean of 12% and 87%: \(nodes)")
        try await Self.shoot(browser, shots, "nodes")

        // gpu-a's view: its two GPUs, and the utilization of the last hour (a chart once the controller keeps
        // that history; "no history yet" from a controller without it).
        _ = try await browser.evaluate("location.hash = '#/nodes/gpu-a'")
        try await browser.waitFor(
            "gpu-a's GPUs",
            "\(byID("node-gpus")).rows.length === 2 && \(byID("node-heading")).textContent === 'Node gpu-a'"
        )
        let gpus = try await browser.rows("node-gpus")
        #expect(
            gpus.map { $0[2] } == ["12%", "87%"] && gpus.allSatisfy { $0[1] == "NVIDIA H100 80GB HBM3" },
            "\(gpus)"
        )
        let admin = HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: cluster.endpoint, bearerToken: cluster.adminToken)
        )
        let history = try await admin.execute(.get, "/v1/nodes/gpu-a/utilization")
        if history.status == 404 {
            try await browser.waitFor("no history yet", "\(byID("util-chart")).textContent.includes('No history yet')")
        } else {
            #expect(history.status == 200)
            try await browser.waitFor("the chart", "document.querySelectorAll('#util-svg path.series').length === 2")
            let words = try await browser.string("\(byID("util-summary")).textContent")
            #expect(words.contains("GPU 0 (solid line): now 12%") && words.contains("GPU 1 (dashed line): now 87%"))
        }
        try await Self.shoot(browser, shots, "node")

        // Drain gpu-b from its view with the mouse, with a reason; the API says it is drained.
        _ = try await browser.evaluate("location.hash = '#/nodes/gpu-b'")
        try await browser.waitFor("the Drain button", "!\(byID("node-drain")).hidden")
        // Escape backs out: nothing changes, the focus is back on the button.
        try await browser.click("#node-drain")
        try await browser.waitFor("the confirmation", "\(byID("confirm")).open")
        try await browser.press("Escape")
        try await browser.waitFor("the confirmation closes", "!\(byID("confirm")).open")
        #expect(try await browser.string("document.activeElement.id") == "node-drain")
        #expect(try await cluster.corral(["nodes"]).stdout.contains("DRAINED") == false)
        try await browser.click("#node-drain")
        try await browser.waitFor("the confirmation", "\(byID("confirm")).open")
        #expect(try await browser.string("document.activeElement.id") == "confirm-reason")
        try await browser.type("disk swap")
        try await browser.click("#confirm-yes")
        try await waitUntil("gpu-b is drained", timeout: 30) {
            let node = try await admin.execute(.get, "/v1/nodes/gpu-b")
            let view = try JSONDecoder.wire.decode(NodeView.self, from: Data(node.body))
            return view.drained && view.drainReason == "disk swap"
        }
        try await browser.waitFor("Resume instead", "!\(byID("node-resume")).hidden && \(byID("node-drain")).hidden")
        #expect(try await browser.string("document.activeElement.id") == "node-resume")
        #expect(try await browser.string("\(byID("node-state")).textContent") == "DRAINED: disk swap")
        // Resume, with Enter on the button that has the focus: no confirmation, the node takes work again.
        try await browser.press("Enter")
        try await waitUntil("gpu-b is resumed", timeout: 30) {
            let node = try await admin.execute(.get, "/v1/nodes/gpu-b")
            return try JSONDecoder.wire.decode(NodeView.self, from: Data(node.body)).drained == false
        }
        try await browser.waitFor("Drain again", "!\(byID("node-drain")).hidden && \(byID("node-resume")).hidden")
        #expect(try await browser.string("document.activeElement.id") == "node-drain")

        // Queues, with the wait figures the API gives.
        _ = try await browser.evaluate("location.hash = '#/queues'")
        try await browser.waitFor("the queues", "\(byID("queues")).rows.length > 0")
        let queues = try JSONDecoder.wire.decode(
            QueueListResponse.self,
            from: Data(try await admin.execute(.get, "/v1/queues").body)
        ).queues
        let shown = try await browser.rows("queues")
        #expect(shown.map { $0.first ?? "" } == queues.map(\.name))
        let queue = try #require(shown.first)
        #expect(queue[2] == String(queues[0].pending) && queue[3] == String(queues[0].running), "\(queue)")
        // The wait figures, read without the wire type (they may be newer than it).
        let raw = try JSONSerialization.jsonObject(with: Data(try await admin.execute(.get, "/v1/queues").body))
        let figures = ((raw as? [String: Any])?["queues"] as? [[String: Any]])?.first ?? [:]
        if let p50 = figures["wait_p50_seconds"] as? Double {
            #expect(queue[5] != "-" && (p50 >= 59.5 || queue[5] == "\(Int(p50.rounded())) s"), "\(queue)")
            #expect(queue[7] == "\(figures["waits_counted"] as? Int ?? -1)", "\(queue)")
        } else {
            #expect(queue[5] == "-" && queue[6] == "-", "\(queue)")
        }
        try await Self.shoot(browser, shots, "queues")
        #expect(browser.problems.isEmpty, "\(browser.problems)")
    }
}
