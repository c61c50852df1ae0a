import HTTPKit

/// `GET /`: the web dashboard. The page and its script are static and hold no data, so they are served
/// without a token (a browser cannot add one to a navigation); everything they show comes from the JSON API
/// with the token the user types, kept in the tab's sessionStorage only. The script builds every element with
/// `textContent`, never `innerHTML`, so nothing a job name or command holds can run as code, and the
/// Content-Security-Policy allows no other script, no inline script and no framing.
enum Dashboard {
    static let headers: [(String, String)] = [
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-cache"),
    ]

    static func page(_ body: String, type: String) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: HTTPHeaders([("Content-Type", type)] + headers), body: Array(body.utf8))
    }

    static func add(to router: inout Router) {
        router.add(.get, "/") { _ in page(html, type: "text/html; charset=utf-8") }
        router.add(.get, "/dashboard.js") { _ in page(script, type: "text/javascript; charset=utf-8") }
        router.add(.get, "/dashboard.css") { _ in page(style, type: "text/css; charset=utf-8") }
    }

    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Corral</title>
        <link rel="stylesheet" href="/dashboard.css">
        <script src="/dashboard.js" defer></script>
        </head>
        <body>
        <header><h1>Corral</h1><span id="who"></span><span id="status"></span>
        <button id="logout" hidden>Forget token</button></header>
        <form id="login" hidden>
        <label>Token <input id="token" type="password" autocomplete="off" placeholder="cru_..."></label>
        <button type="submit">Show the cluster</button> <span id="login-error"></span>
        </form>
        <main id="main" hidden>
        <section id="summary"></section>
        <h2>Jobs <small>(the newest 100)</small></h2>
        <table><thead><tr><th>ID</th><th>NAME</th><th>USER</th><th>QUEUE</th><th>STATE</th><th>GPUS</th><th>NODE</th>
        <th>AGE</th><th>REASON</th></tr></thead><tbody id="jobs"></tbody></table>
        <section id="job" hidden><h2 id="job-title"></h2><button id="job-close">Close</button>
        <pre id="job-detail"></pre><h3>Log (the last 64 KiB)</h3><pre id="job-log"></pre></section>
        <h2>Nodes</h2>
        <table><thead><tr><th>NODE</th><th>STATUS</th><th>GPUS</th><th>GPU UTIL</th><th>CPUS</th><th>MEMORY</th>
        <th>LAST SEEN</th><th>NOTE</th></tr></thead><tbody id="nodes"></tbody></table>
        <h2>Queues</h2>
        <table><thead><tr><th>QUEUE</th><th>PRIORITY</th><th>PENDING</th><th>RUNNING</th><th>GPUS</th></tr></thead>
        <tbody id="queues"></tbody></table>
        </main>
        </body>
        </html>

        """

    static let style = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5em 2em; color: #1d1d1f; }
        header { display: flex; gap: 1.5em; align-items: baseline; border-bottom: 1px solid #ddd; }
        h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
        #status, #who, small { color: #777; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid #eee; white-space: nowrap; }
        th { font-size: 0.8em; color: #555; }
        td.num { text-align: right; }
        button.link { border: none; background: none; color: #0366d6; cursor: pointer; padding: 0; font: inherit; }
        .SUCCEEDED { color: #1a7f37; } .FAILED, .LOST { color: #cf222e; } .RUNNING, .STARTING { color: #0969da; }
        .QUEUED, .ALLOCATED { color: #9a6700; } .CANCELED { color: #777; }
        #summary { display: flex; gap: 2em; margin-top: 1em; font-size: 1.1em; }
        pre { background: #f6f8fa; padding: 0.8em; overflow: auto; max-height: 28em; }
        #login-error { color: #cf222e; }

        """

    static let script = """
        "use strict";
        // Corral dashboard: reads GET /v1/whoami, /v1/jobs, /v1/nodes, /v1/queues and /v1/jobs/{id}(/logs)
        // with the typed token. Elements get text through textContent only.
        const $ = (id) => document.getElementById(id);
        const tokenKey = "corral-token";

        async function api(path, raw) {
          const response = await fetch(path, { headers: { Authorization: "Bearer " + sessionStorage.getItem(tokenKey) } });
          if (response.status === 401) {
            sessionStorage.removeItem(tokenKey);
            showLogin("The controller rejected the token.");
            throw new Error("token rejected");
          }
          if (!response.ok) throw new Error(path + ": HTTP " + response.status);
          return raw ? response : response.json();
        }

        function cell(text, className) {
          const td = document.createElement("td");
          td.textContent = text;
          if (className) td.className = className;
          return td;
        }

        function fill(id, rows) {
          $(id).replaceChildren(...rows.map((cells) => {
            const tr = document.createElement("tr");
            for (const c of cells) tr.appendChild(c);
            return tr;
          }));
        }

        function age(iso) {
          if (!iso) return "-";
          const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
          if (seconds < 60) return seconds + "s";
          if (seconds < 3600) return Math.floor(seconds / 60) + "m";
          if (seconds < 86400) return Math.floor(seconds / 3600) + "h";
          return Math.floor(seconds / 86400) + "d";
        }

        function bytes(n) {
          const units = ["B", "K", "M", "G", "T", "P"];
          let i = 0;
          while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
          return (i === 0 ? n : n.toFixed(1)) + units[i];
        }

        function jobLink(id) {
          const td = document.createElement("td");
          const button = document.createElement("button");
          button.className = "link";
          button.textContent = id;
          button.addEventListener("click", () => showJob(id));
          td.appendChild(button);
          return td;
        }

        function meanUtilization(node) {
          const measured = node.gpus.map((g) => g.utilization).filter((u) => typeof u === "number");
          if (measured.length === 0 || node.status !== "READY") return "-";
          return Math.round(measured.reduce((a, b) => a + b, 0) / measured.length) + "%";
        }

        async function refresh() {
          if (!sessionStorage.getItem(tokenKey)) return;
          try {
            const [me, jobs, nodes, queues] = await Promise.all([
              api("/v1/whoami"), api("/v1/jobs?limit=100&collapse=arrays"), api("/v1/nodes"), api("/v1/queues"),
            ]);
            $("who").textContent = me.user + " (" + me.role + ")";
            const gpus = nodes.nodes.reduce((a, n) => a + n.gpus.length, 0);
            const used = nodes.nodes.reduce((a, n) => a + n.gpus_used, 0);
            const ready = nodes.nodes.filter((n) => n.status === "READY").length;
            const pending = queues.queues.reduce((a, q) => a + q.pending, 0);
            const running = queues.queues.reduce((a, q) => a + q.running, 0);
            $("summary").replaceChildren(...[
              ready + " of " + nodes.nodes.length + " nodes ready",
              used + " of " + gpus + " GPUs in use",
              running + " jobs running",
              pending + " queued",
            ].map((text) => { const span = document.createElement("span"); span.textContent = text; return span; }));
            // An array is one row (its tasks' counts by state); a gang shows NODESxGPUS and its rank 0's node.
            const arrayStates = (s) => Object.entries(s.states).map(([state, n]) => n + " " + state).join(", ");
            fill("jobs", jobs.jobs.map((j) => [
              jobLink(j.id), cell(j.array_summary ? (j.name || "array") + " [" + j.array_summary.tasks + " tasks]" : (j.name || "-")),
              cell(j.user), cell(j.queue),
              j.array_summary ? cell(arrayStates(j.array_summary)) : cell(j.state, j.state),
              cell(j.nodes > 1 ? j.nodes + "x" + j.gpus : String(j.gpus), "num"),
              cell(j.array_summary ? "-" : (j.node || "-") + (j.nodes > 1 ? " +" + (j.nodes - 1) : "")), cell(age(j.submitted_at)),
              cell(j.reason || (j.state === "QUEUED" ? "" : j.message || "")),
            ]));
            fill("nodes", nodes.nodes.map((n) => [
              cell(n.id), cell(n.revoked ? "REVOKED" : n.drained ? "DRAINED" : n.status, n.status),
              cell(n.gpus_used + "/" + n.gpus.length), cell(meanUtilization(n)), cell(n.cpus_used + "/" + n.cpus),
              cell(bytes(n.memory_used) + "/" + bytes(n.memory)), cell(age(n.last_heartbeat)),
              cell(n.drain_reason || n.message || ""),
            ]));
            fill("queues", queues.queues.map((q) => [
              cell(q.name), cell(String(q.priority), "num"), cell(String(q.pending), "num"),
              cell(String(q.running), "num"), cell(String(q.gpus_in_use), "num"),
            ]));
            $("status").textContent = "updated " + new Date().toLocaleTimeString();
          } catch (error) {
            $("status").textContent = error.message;
          }
        }

        async function showJob(id) {
          try {
            const job = await api("/v1/jobs/" + encodeURIComponent(id));
            $("job-title").textContent = "Job " + job.id + (job.name ? " (" + job.name + ")" : "") + ": " + job.state;
            $("job-detail").textContent = JSON.stringify(job, null, 2);
            // The tail: ask for the size first (the first 64 KiB come with it), then the last 64 KiB if it is more.
            const logs = "/v1/jobs/" + encodeURIComponent(id) + "/logs";
            let response = await api(logs + "?offset=0", true);
            const size = Number(response.headers.get("X-Corral-Log-Size") || "0");
            if (size > 65536) response = await api(logs + "?offset=" + (size - 65536), true);
            const log = await response.text();
            $("job-log").textContent = log.length > 65536 ? log.slice(log.length - 65536) : log;
            $("job").hidden = false;
            $("job").scrollIntoView();
          } catch (error) {
            $("status").textContent = error.message;
          }
        }

        function showLogin(message) {
          $("login").hidden = false;
          $("main").hidden = true;
          $("logout").hidden = true;
          $("login-error").textContent = message || "";
        }

        function showMain() {
          $("login").hidden = true;
          $("main").hidden = false;
          $("logout").hidden = false;
          refresh();
        }

        document.addEventListener("DOMContentLoaded", () => {
          $("login").addEventListener("submit", (event) => {
            event.preventDefault();
            sessionStorage.setItem(tokenKey, $("token").value.trim());
            $("token").value = "";
            showMain();
          });
          $("logout").addEventListener("click", () => { sessionStorage.removeItem(tokenKey); showLogin(""); });
          $("job-close").addEventListener("click", () => { $("job").hidden = true; });
          if (sessionStorage.getItem(tokenKey)) showMain(); else showLogin("");
          setInterval(refresh, 5000);
        });

        """
}
