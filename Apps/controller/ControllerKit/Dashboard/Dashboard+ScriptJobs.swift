extension Dashboard {
    /// The jobs view (`#/jobs?state=&user=&queue=&name=`): the cluster in four figures, the filters (sent to
    /// the server as `GET /v1/jobs` query parameters, kept in the address so a filtered list can be bookmarked
    /// and the Back button undoes a filter), and the list, newest first, refreshed every 5 s. "Show older
    /// jobs" asks for 50 more. Users see their own jobs only (the API decides); admins see everyone's.
    static let scriptJobs = #"""
        const filterKeys = ["state", "user", "queue", "name"];
        const jobsPage = { limit: 50, filters: "", announce: false };

        function filtersFromForm() {
          const query = new URLSearchParams();
          for (const key of filterKeys) {
            const value = $("filter-" + key).value.trim();
            if (value) query.set(key, value);
          }
          return query;
        }

        function jobRow(job) {
          const summary = job.array_summary;
          const name = summary ? (job.name || "array") + " [" + summary.tasks + " tasks]" : job.name || "-";
          const states = summary
            ? el("td", Object.entries(summary.states).map(([state, n]) => n + " " + state).join(", "))
            : stateCell(job.state, job.idle);
          const gpus = job.nodes > 1 ? job.nodes + " x " + job.gpus : String(job.gpus);
          const node = summary ? "-" : (job.node || "-") + (job.nodes > 1 ? " +" + (job.nodes - 1) : "");
          const note = job.state === "QUEUED" ? job.reason || "" : job.stopping || job.message || "";
          return row([
            cellWith(link("#/jobs/" + enc(job.id), job.id, "job:" + job.id)),
            name, job.user, job.queue, states, num(gpus), node, age(job.submitted_at), note,
          ]);
        }

        function summaryItems(nodes, queues) {
          const all = nodes.nodes;
          const gpus = all.reduce((sum, n) => sum + n.gpus.length, 0);
          const used = all.reduce((sum, n) => sum + n.gpus_used, 0);
          const ready = all.filter((n) => n.status === "READY" && !n.drained).length;
          const pending = queues.queues.reduce((sum, q) => sum + q.pending, 0);
          const running = queues.queues.reduce((sum, q) => sum + q.running, 0);
          return [
            ready + " of " + all.length + " nodes ready",
            used + " of " + gpus + " GPUs in use",
            running + " jobs running",
            pending + " queued",
          ].map((text) => el("li", text));
        }

        app.views.jobs = async (live, id, params) => {
          // The form shows the filters of the address (a bookmark, Back, or the form's own submission).
          for (const key of filterKeys) $("filter-" + key).value = params.get(key) || "";
          const filters = filtersFromForm().toString();
          if (filters !== jobsPage.filters) { jobsPage.filters = filters; jobsPage.limit = 50; }
          await every(5000, live, async () => {
            // The filters of the address, not what is being typed in the form and not yet sent.
            const query = new URLSearchParams(filters);
            query.set("limit", String(jobsPage.limit));
            query.set("collapse", "arrays");
            const [list, nodes, queues] = await Promise.all([
              api("/v1/jobs?" + query.toString()), api("/v1/nodes"), api("/v1/queues"),
            ]);
            if (!live()) return;
            $("summary").replaceChildren(...summaryItems(nodes, queues));
            $("queue-names").replaceChildren(...queues.queues.map((q) => {
              const option = document.createElement("option");
              option.value = q.name;
              return option;
            }));
            fill($("jobs"), list.jobs.map(jobRow));
            const shown = list.jobs.length + (list.next_cursor ? "+" : "");
            $("jobs-caption").textContent = "Jobs, newest first" + (filters ? " (filtered: "
              + filters.replace(/&/g, ", ").replace(/=/g, " ") + ")" : "") + ": " + shown;
            $("jobs-empty").hidden = list.jobs.length > 0;
            $("jobs-more").hidden = !list.next_cursor || jobsPage.limit >= 1000;
            if (jobsPage.announce) {
              jobsPage.announce = false;
              say(list.jobs.length + (list.next_cursor ? " or more" : "") + " jobs shown.");
            }
            $("jobs-updated").textContent = "Updated " + new Date().toLocaleTimeString() + ", every 5 s.";
          });
        };

        function setupJobs() {
          $("filters").addEventListener("submit", (event) => {
            event.preventDefault();
            const query = filtersFromForm().toString();
            const target = "#/jobs" + (query ? "?" + query : "");
            // A filter keeps the focus in the form and says how many jobs it shows.
            jobsPage.announce = true;
            app.keepFocus = true;
            if (location.hash === target) render(false); else location.hash = target;
          });
          $("filter-clear").addEventListener("click", () => {
            for (const key of filterKeys) $("filter-" + key).value = "";
            $("filters").requestSubmit();
          });
          $("jobs-more").addEventListener("click", () => {
            jobsPage.limit = Math.min(1000, jobsPage.limit + 50);
            render(false);
          });
        }

        """#
}
