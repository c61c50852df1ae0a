extension Dashboard {
    /// The script's first part: requests with the token, errors, helpers that make elements (text only),
    /// the confirmation dialog, the router (`#/jobs`, `#/jobs/ID`, `#/nodes`, `#/nodes/ID`, `#/queues`) and
    /// sign-in. Each view registers a loader in `views`; the router runs it again every few seconds while the
    /// view is shown, and a loader checks `live()` before it writes, so an answer for a view already left is
    /// dropped.
    static let scriptCore = #"""
        "use strict";
        // Corral dashboard. Plain script, no build step, no libraries. Every element is made with createElement
        // (createElementNS for the chart) and gets text through textContent only, never markup.
        const $ = (id) => document.getElementById(id);
        const tokenKey = "corral-token";
        const finished = ["SUCCEEDED", "FAILED", "LOST", "CANCELED"];
        const app = { me: null, generation: 0, timers: [], views: {} };
        const enc = encodeURIComponent;

        class APIError extends Error {
          constructor(status, code, message) { super(message); this.status = status; this.code = code; }
        }

        // Sends a request with the tab's token; a 401 forgets the token and asks for another.
        async function request(method, path, body) {
          const headers = { Authorization: "Bearer " + sessionStorage.getItem(tokenKey) };
          // A standby sends what it does not answer to the leader (307), which a page cannot follow to another
          // origin: it is told so instead.
          const init = { method, headers, cache: "no-store", redirect: "manual" };
          if (body !== undefined) {
            headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(body);
          }
          let response;
          try {
            response = await fetch(path, init);
          } catch (error) {
            throw new APIError(0, "unreachable", "The controller did not answer (" + error.message + ").");
          }
          if (response.type === "opaqueredirect") {
            const leader = await standbyLeader();
            throw new APIError(307, "not_leader", "This controller is a standby: it shows the cluster but does not act "
              + "on it, nor keep what only the leader's memory holds. Use the leader's dashboard"
              + (leader ? " at " + leader : "") + ".");
          }
          if (response.status === 401) {
            sessionStorage.removeItem(tokenKey);
            showLogin("The controller rejected the token (expired, revoked or mistyped).");
            throw new APIError(401, "unauthorized", "The controller rejected the token.");
          }
          if (!response.ok) {
            let code = "http_" + response.status;
            let message = path + ": HTTP " + response.status;
            try {
              const answer = await response.json();
              if (answer.error) { code = answer.error.code; message = answer.error.message; }
            } catch (ignored) { /* not JSON: keep the status */ }
            throw new APIError(response.status, code, message);
          }
          return response;
        }

        // The leader's address when this controller is a standby (its /healthz says so); null when it leads.
        async function standbyLeader() {
          try {
            const health = await (await fetch("/healthz", { cache: "no-store" })).json();
            return health.status === "standby" ? (health.leader || "not known yet") : null;
          } catch (ignored) { return null; }
        }

        const api = async (path) => (await request("GET", path)).json();
        const post = async (path, body) => (await request("POST", path, body)).json();

        function say(text) { $("status").textContent = text; }
        function showError(text) { $("error").textContent = text; }

        // An element with text (and a class): the only way text reaches the page.
        function el(tag, text, className) {
          const node = document.createElement(tag);
          if (text !== undefined && text !== null) node.textContent = String(text);
          if (className) node.className = className;
          return node;
        }

        function link(href, text, key) {
          const anchor = el("a", text);
          anchor.href = href;
          if (key) anchor.dataset.key = key;
          return anchor;
        }

        function row(cells) {
          const tr = document.createElement("tr");
          for (const c of cells) tr.appendChild(c instanceof Node ? c : el("td", c));
          return tr;
        }

        function cellWith(...children) {
          const td = document.createElement("td");
          td.append(...children);
          return td;
        }

        function num(text) { return el("td", text, "num"); }

        // A state as text (its class only adds colour), with an IDLE badge when the job's GPUs are idle.
        function stateCell(state, idle) {
          const td = cellWith(el("span", state, "state " + state));
          if (idle) td.appendChild(idleBadge(idle));
          return td;
        }

        function idleBadge(idle) {
          const badge = el("span", "IDLE", "badge idle");
          const mean = typeof idle.mean_utilization === "number" ? idle.mean_utilization + "% mean" : "";
          badge.title = "GPUs idle since " + when(idle.since) + (mean ? ", " + mean : "");
          return badge;
        }

        // Replaces a table body's rows, keeping the focus on the same link or button if it is still there.
        function fill(tbody, rows) {
          const active = document.activeElement;
          const key = active && tbody.contains(active) ? active.dataset.key : undefined;
          tbody.replaceChildren(...rows);
          if (key) {
            const again = [...tbody.querySelectorAll("[data-key]")].find((node) => node.dataset.key === key);
            if (again) again.focus();
          }
        }

        function details(dl, pairs) {
          const items = [];
          for (const [term, value] of pairs) {
            if (value === undefined || value === null || value === "") continue;
            const dd = document.createElement("dd");
            if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
            items.push(el("dt", term), dd);
          }
          dl.replaceChildren(...items);
        }

        function age(iso) {
          if (!iso) return "-";
          return duration(Math.max(0, (Date.now() - Date.parse(iso)) / 1000)) + " ago";
        }

        function duration(seconds) {
          if (typeof seconds !== "number" || !isFinite(seconds)) return "-";
          const s = Math.round(seconds);
          if (s < 60) return s + " s";
          if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
          if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
          return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
        }

        function when(iso) {
          if (!iso) return "-";
          const date = new Date(iso);
          return isNaN(date) ? iso : date.toLocaleString();
        }

        function bytes(n) {
          if (typeof n !== "number") return "-";
          const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
          let i = 0;
          while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
          return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
        }

        const isAdmin = () => app.me !== null && app.me.role === "admin";

        // Asks before a change that cannot be undone; resolves to { reason } or null. Escape or "No" cancels;
        // the focus goes back to the button that opened it.
        function confirmAction(title, text, yes, askReason) {
          return new Promise((resolve) => {
            const dialog = $("confirm");
            const opener = document.activeElement;
            $("confirm-title").textContent = title;
            $("confirm-text").textContent = text;
            $("confirm-yes").textContent = yes;
            $("confirm-reason-row").hidden = !askReason;
            $("confirm-reason").value = "";
            const finish = (answer) => {
              $("confirm-form").onsubmit = null;
              $("confirm-no").onclick = null;
              dialog.oncancel = null;
              dialog.close();
              if (opener && document.contains(opener)) opener.focus();
              resolve(answer);
            };
            $("confirm-form").onsubmit = (event) => {
              event.preventDefault();
              finish({ reason: $("confirm-reason").value.trim() });
            };
            $("confirm-no").onclick = () => finish(null);
            dialog.oncancel = (event) => { event.preventDefault(); finish(null); };
            dialog.showModal();
            (askReason ? $("confirm-reason") : $("confirm-no")).focus();
          });
        }

        // Routing: the view named by the address, shown alone; its heading takes the focus on navigation.
        function route() {
          const [path, query] = (location.hash || "#/jobs").slice(1).split("?");
          const parts = path.split("/").filter(Boolean).map((part) => decodeURIComponent(part));
          return { section: parts[0] || "jobs", id: parts[1], params: new URLSearchParams(query || "") };
        }

        function stopTimers() {
          for (const timer of app.timers) clearTimeout(timer);
          app.timers = [];
        }

        // Runs `task` now and then every `ms` while the view it belongs to is shown; not again after a 404
        // (what is not there will not come back by asking again).
        function every(ms, live, task) {
          const run = async () => {
            if (!live()) return;
            try {
              await task();
            } catch (error) {
              if (live() && error.status !== 401) showError(error.message);
              if (error.status === 404) return;
            }
            if (live()) app.timers.push(setTimeout(run, ms));
          };
          return run();
        }

        async function render(moveFocus) {
          if (!app.me) return;
          stopTimers();
          const generation = ++app.generation;
          const live = () => generation === app.generation && app.me !== null;
          const { section, id, params } = route();
          const name = id ? section.replace(/s$/, "") : section;
          const view = app.views[name] ? name : "jobs";
          for (const page of document.querySelectorAll(".page")) page.hidden = page.id !== view + "-page";
          for (const anchor of document.querySelectorAll("nav a")) {
            if (anchor.dataset.section === section) anchor.setAttribute("aria-current", "page");
            else anchor.removeAttribute("aria-current");
          }
          const heading = $(view + "-heading");
          const titles = { jobs: "Jobs", job: "Job", nodes: "Nodes", node: "Node", queues: "Queues" };
          if (id) heading.textContent = titles[view] + " " + id;
          document.title = heading.textContent + " - Corral";
          showError("");
          if (moveFocus) { say(""); heading.focus(); }
          await app.views[view](live, id, params);
        }

        function showLogin(message) {
          app.me = null;
          stopTimers();
          app.generation += 1;
          for (const page of document.querySelectorAll(".page")) page.hidden = page.id !== "login-page";
          $("nav").hidden = true;
          $("logout").hidden = true;
          $("who").textContent = "";
          $("login-error").textContent = message || "";
          document.title = "Sign in - Corral";
          $("token").focus();
        }

        async function signIn(moveFocus) {
          if (!sessionStorage.getItem(tokenKey)) { showLogin(""); return; }
          try {
            app.me = await api("/v1/whoami");
          } catch (error) {
            if (error.status !== 401) showLogin(error.message);
            return;
          }
          const me = app.me;
          const leader = await standbyLeader();
          $("who").textContent = "Signed in as " + me.user + " (" + me.role + ")"
            + (leader ? ", on a standby controller: it shows the cluster, at most a second old; the leader, "
              + leader + ", acts on it" : "");
          $("nav").hidden = false;
          $("logout").hidden = false;
          $("login-error").textContent = "";
          document.body.classList.toggle("admin", isAdmin());
          await render(moveFocus);
        }

        """#
}
