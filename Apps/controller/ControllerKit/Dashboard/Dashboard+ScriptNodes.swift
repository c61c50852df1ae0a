extension Dashboard {
    /// The nodes view (`#/nodes`) and a node's view (`#/nodes/ID`): status, use, the GPUs and the jobs on
    /// them, Drain (with an optional reason, after a confirmation) and Resume for admins only, and the GPU
    /// utilization of the last hour (`GET /v1/nodes/{id}/utilization`, from the heartbeats the controller keeps
    /// in memory) as an SVG chart made with createElementNS: one line per GPU, told apart by dash pattern as
    /// well as colour, with the same figures in words below it. A controller without that route (404) or with
    /// no sample yet gets "no history yet".
    static let scriptNodes = #"""
        const svgNS = "http://www.w3.org/2000/svg";
        const lineStyles = [
          ["solid", ""], ["dashed", "8 4"], ["dotted", "2 4"], ["dash-dot", "8 4 2 4"],
          ["long-dashed", "14 5"], ["short-dashed", "4 3"], ["dash-dot-dot", "8 3 2 3 2 3"], ["sparse-dotted", "2 8"],
        ];

        function nodeStatus(n) {
          return n.revoked ? "REVOKED" : n.drained ? "DRAINED" : n.status;
        }

        function meanUtilization(n) {
          const measured = n.gpus.map((g) => g.utilization).filter((u) => typeof u === "number");
          if (measured.length === 0 || n.status !== "READY") return "-";
          return Math.round(measured.reduce((sum, u) => sum + u, 0) / measured.length) + "%";
        }

        // Drain (asks first, with an optional reason) or resume; admins only (the API refuses anyone else).
        async function nodeAction(id, action) {
          let body = {};
          if (action === "drain") {
            const answer = await confirmAction("Drain node " + id + "?", "No new job will be placed on it; the jobs "
              + "running there go on until they end.", "Drain the node", true);
            if (!answer) return false;
            if (answer.reason) body = { reason: answer.reason };
          }
          try {
            const updated = await post("/v1/nodes/" + enc(id) + "/" + action, body);
            say("Node " + id + (action === "drain" ? " drained" : " resumed") + "; it is " + nodeStatus(updated) + ".");
            return true;
          } catch (error) {
            if (error.status !== 401) showError("Could not " + action + " node " + id + ": " + error.message);
            return false;
          }
        }

        function nodeActionButton(n, after) {
          const action = n.drained ? "resume" : "drain";
          const button = el("button", n.drained ? "Resume" : "Drain", n.drained ? "" : "danger");
          button.type = "button";
          button.dataset.key = "action:" + n.id;
          button.setAttribute("aria-label", (n.drained ? "Resume" : "Drain") + " node " + n.id);
          button.addEventListener("click", async () => { if (await nodeAction(n.id, action)) after(); });
          return cellWith(button);
        }

        app.views.nodes = async (live) => {
          const head = $("nodes-head");
          const actions = head.querySelector(".actions-column");
          if (isAdmin() && !actions) head.appendChild(Object.assign(el("th", "Actions", "actions-column"), { scope: "col" }));
          if (!isAdmin() && actions) actions.remove();
          const load = async () => {
            const list = await api("/v1/nodes");
            if (!live()) return;
            fill($("nodes"), list.nodes.map((n) => {
              const cells = [
                cellWith(link("#/nodes/" + enc(n.id), n.id, "node:" + n.id)),
                stateCell(nodeStatus(n)), num(n.gpus_used + " of " + n.gpus.length), num(meanUtilization(n)),
                num(n.cpus_used + " of " + n.cpus), num(bytes(n.memory_used) + " of " + bytes(n.memory)),
                n.agent_version || "", age(n.last_heartbeat), n.drain_reason || n.message || "",
              ];
              if (isAdmin()) cells.push(nodeActionButton(n, load));
              return row(cells);
            }));
            $("nodes-caption").textContent = "Nodes: " + list.nodes.length;
            $("nodes-updated").textContent = "Updated " + new Date().toLocaleTimeString() + ", every 5 s.";
          };
          await every(5000, live, load);
        };

        function svg(tag, attributes, text) {
          const node = document.createElementNS(svgNS, tag);
          for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
          if (text !== undefined) node.textContent = text;
          return node;
        }

        // The last hour, one line per GPU; a gap of more than three buckets breaks the line.
        function utilizationChart(data, words) {
          const width = 720, height = 240, left = 46, right = 14, top = 12, bottom = 30;
          const end = Date.now(), span = 3600 * 1000, start = end - span;
          const x = (t) => left + ((t - start) / span) * (width - left - right);
          const y = (p) => top + (1 - Math.min(100, Math.max(0, p)) / 100) * (height - top - bottom);
          const chart = svg("svg", {
            id: "util-svg", viewBox: "0 0 " + width + " " + height, role: "img", "aria-labelledby": "util-title util-desc",
          });
          chart.appendChild(svg("title", { id: "util-title" }, "GPU utilization of node " + data.node + ", the last hour"));
          chart.appendChild(svg("desc", { id: "util-desc" }, words.join(" ")));
          for (const p of [0, 25, 50, 75, 100]) {
            chart.appendChild(svg("line", { x1: left, x2: width - right, y1: y(p), y2: y(p), class: "grid" }));
            chart.appendChild(svg("text", { x: left - 6, y: y(p) + 4, "text-anchor": "end", class: "axis" }, p + "%"));
          }
          for (const minutes of [60, 45, 30, 15, 0]) {
            const at = x(end - minutes * 60000);
            chart.appendChild(svg("text", { x: at, y: height - 10, "text-anchor": "middle", class: "axis" },
              minutes === 0 ? "now" : "-" + minutes + " min"));
          }
          const gap = 3 * 1000 * (data.bucket_seconds || 30);
          data.gpus.forEach((series, i) => {
            let d = "", last = null;
            for (const point of series.points) {
              const t = Date.parse(point.at);
              if (!(t >= start) || typeof point.percent !== "number") continue;
              d += (last === null || t - last > gap ? "M" : "L") + x(t).toFixed(1) + " " + y(point.percent).toFixed(1) + " ";
              last = t;
            }
            if (!d) return;
            const [, dash] = lineStyles[i % lineStyles.length];
            const path = svg("path", { d: d.trim(), class: "series s" + (i % 8), "data-gpu": series.index });
            if (dash) path.setAttribute("stroke-dasharray", dash);
            chart.appendChild(path);
          });
          return chart;
        }

        function utilizationWords(data) {
          return data.gpus.map((series, i) => {
            const values = series.points.map((point) => point.percent).filter((p) => typeof p === "number");
            const style = lineStyles[i % lineStyles.length][0] + " line";
            if (values.length === 0) return "GPU " + series.index + " (" + style + "): no samples.";
            const mean = values.reduce((sum, p) => sum + p, 0) / values.length;
            return "GPU " + series.index + " (" + style + "): now " + Math.round(values[values.length - 1]) + "%, mean "
              + Math.round(mean) + "%, peak " + Math.round(Math.max(...values)) + "% over " + values.length + " samples.";
          });
        }

        async function loadUtilization(live, id) {
          let data = null;
          try {
            data = await api("/v1/nodes/" + enc(id) + "/utilization");
          } catch (error) {
            if (error.status === 307) {
              if (live()) $("util-chart").replaceChildren(el("p", error.message, "quiet"));
              return;
            }
            if (error.status !== 404) throw error;
          }
          if (!live()) return;
          const samples = data ? data.gpus.reduce((sum, series) => sum + series.points.length, 0) : 0;
          if (samples === 0) {
            $("util-chart").replaceChildren(el("p", "No history yet: the controller keeps an hour of the node's "
              + "heartbeats in memory, and has none for this node.", "quiet"));
            $("util-summary").replaceChildren();
            return;
          }
          const words = utilizationWords(data);
          $("util-chart").replaceChildren(utilizationChart(data, words));
          $("util-summary").replaceChildren(...words.map((text) => el("li", text)));
        }

        function gpuJobs(id, jobs) {
          const byGPU = new Map();
          for (const job of jobs.jobs) {
            const places = job.ranks ? job.ranks : [{ node: job.node, gpu_indices: job.gpu_indices }];
            for (const place of places) if (place.node === id) {
              for (const index of place.gpu_indices) byGPU.set(index, job.id);
            }
          }
          return byGPU;
        }

        app.views.node = async (live, id) => {
          if ($("node-drain").dataset.node !== id) {
            for (const part of ["node-state", "node-details", "node-gpus", "util-chart", "util-summary"]) {
              $(part).replaceChildren();
            }
            $("node-drain").hidden = true;
            $("node-resume").hidden = true;
          }
          $("node-drain").dataset.node = id;
          const load = async () => {
            const [n, jobs] = await Promise.all([
              api("/v1/nodes/" + enc(id)), api("/v1/jobs?state=ALLOCATED,STARTING,RUNNING&limit=1000"),
            ]);
            if (!live()) return;
            const status = nodeStatus(n);
            const line = [el("span", status, "state " + status)];
            if (n.drain_reason) line.push(document.createTextNode(": " + n.drain_reason));
            else if (n.message) line.push(document.createTextNode(": " + n.message));
            $("node-state").replaceChildren(...line);
            $("node-drain").hidden = !isAdmin() || n.drained || Boolean(n.revoked);
            $("node-resume").hidden = !isAdmin() || !n.drained;
            details($("node-details"), [
              ["Hostname", n.hostname], ["Address", n.address], ["GPUs in use", n.gpus_used + " of " + n.gpus.length],
              ["CPUs in use", n.cpus_used + " of " + n.cpus], ["Memory in use", bytes(n.memory_used) + " of " + bytes(n.memory)],
              ["Disk free for logs", typeof n.disk_free === "number" ? bytes(n.disk_free) : ""],
              ["Labels", Object.entries(n.labels).map(([k, v]) => k + "=" + v).join(", ")],
              ["Containment", n.containment],
              ["Agent", n.agent_version ? n.agent_version + (n.agent_build ? " (SHA-256 " + n.agent_build.slice(0, 16) + "...)" : "") : ""],
              ["Last heartbeat", when(n.last_heartbeat) + " (" + age(n.last_heartbeat) + ")"],
            ]);
            const byGPU = gpuJobs(id, jobs);
            fill($("node-gpus"), n.gpus.map((g) => row([
              num(String(g.index)), g.name, num(typeof g.utilization === "number" ? g.utilization + "%" : "-"),
              num(typeof g.memory_used_mib === "number" ? g.memory_used_mib + " of " + g.memory_mib + " MiB" : "-"),
              stateCell(g.healthy ? "healthy" : "UNHEALTHY"),
              byGPU.has(g.index) ? cellWith(link("#/jobs/" + enc(byGPU.get(g.index)), byGPU.get(g.index))) : "-",
            ])));
          };
          await Promise.all([every(5000, live, load), every(15000, live, () => loadUtilization(live, id))]);
        };

        function setupNodes() {
          const act = async (action) => {
            const id = $("node-drain").dataset.node;
            if (!id || !(await nodeAction(id, action))) return;
            await render(false);
            // The button pressed is gone; its counterpart takes the focus.
            $(action === "drain" ? "node-resume" : "node-drain").focus();
          };
          $("node-drain").addEventListener("click", () => act("drain"));
          $("node-resume").addEventListener("click", () => act("resume"));
        }

        """#
}
