extension Dashboard {
    /// A job's view (`#/jobs/ID`): its state, what it asked for, its attempts and events (every 3 s), the
    /// actions its owner or an admin may take where they apply (cancel, after a confirmation; hold, release,
    /// requeue), and its log followed live: the last 64 KiB first, then `GET /logs?offset=` every second from
    /// where the last answer ended, until the job has finished and the offset reached `X-Corral-Log-Size`. A
    /// new attempt (a retry or a requeue) starts its own log, shown after a divider.
    static let scriptJob = #"""
        const jobPage = { id: null, job: null };
        const logCap = 512 * 1024;

        function exitText(x) {
          if (typeof x.exit_code === "number") return "exit " + x.exit_code + (x.exit_reason ? " (" + x.exit_reason + ")" : "");
          if (x.signal) return x.signal + (x.exit_reason ? " (" + x.exit_reason + ")" : "");
          return "-";
        }

        function showJob(job) {
          jobPage.job = job;
          $("job-heading").textContent = "Job " + job.id + (job.name ? " (" + job.name + ")" : "");
          document.title = $("job-heading").textContent + " - Corral";
          const line = [el("span", job.state, "state " + job.state)];
          if (job.idle) line.push(idleBadge(job.idle));
          const why = job.state === "QUEUED" ? job.reason : job.message;
          if (why) line.push(document.createTextNode(": " + why));
          if (job.stopping) line.push(document.createTextNode(" (stopping: " + job.stopping + ")"));
          if (job.idle) line.push(document.createTextNode(" GPUs idle since " + when(job.idle.since) + "."));
          $("job-state").replaceChildren(...line);

          const mine = isAdmin() || (app.me !== null && job.user === app.me.user);
          const open = !finished.includes(job.state) && !job.stopping;
          const held = job.state === "QUEUED" && job.hold;
          $("job-cancel").hidden = !(mine && open);
          $("job-hold").hidden = !(mine && open && job.state === "QUEUED" && !job.hold);
          $("job-release").hidden = !(mine && held && (!job.hold.admin || isAdmin()));
          $("job-requeue").hidden = !(mine && open && ["ALLOCATED", "STARTING", "RUNNING"].includes(job.state));

          const resources = job.gpus + " GPU(s)" + (job.gpu_type ? " " + job.gpu_type : "") + ", " + job.cpus
            + " CPU(s), " + (job.memory ? bytes(job.memory) : "no memory limit") + (job.nodes > 1 ? " per node on "
            + job.nodes + " nodes" : "");
          details($("job-details"), [
            ["User", job.user + (job.unix_user && job.unix_user !== job.user ? " (runs as " + job.unix_user + ")" : "")],
            ["Queue", job.queue],
            ["Priority", String(job.priority)],
            ["Held", job.hold ? "by " + job.hold.by + (job.hold.admin ? " (admin)" : "") + " at " + when(job.hold.at) : ""],
            ["Command", job.command.join(" ")],
            ["Directory", job.cwd],
            ["Image", job.image],
            ["Resources", resources],
            ["Node", job.node ? job.node + " (GPUs " + (job.gpu_indices.join(", ") || "none") + ")" : ""],
            ["Time limit", job.time_limit ? duration(job.time_limit) : "none"],
            ["Retries allowed", String(job.max_retries)],
            ["Depends on", job.depends_on.join(", ")],
            ["Submitted", when(job.submitted_at)],
            ["Started", job.started_at ? when(job.started_at) : ""],
            ["Ended", job.ended_at ? when(job.ended_at) : ""],
            ["Result", finished.includes(job.state) ? exitText(job) : ""],
          ]);
          fill($("job-attempts"), job.attempts.map((a) => row([
            // The current attempt has no state of its own until it ends: the job's is its.
            num(String(a.attempt)), a.node, a.gpu_indices.join(", ") || "-",
            stateCell(a.state || (a.attempt === job.attempt ? job.state : "-")),
            when(a.allocated_at), when(a.started_at), when(a.ended_at), exitText(a), a.message || "",
          ])));
        }

        async function jobAction(action) {
          const job = jobPage.job;
          if (!job) return;
          const asks = {
            cancel: ["Cancel job " + job.id + "?", "Its processes get SIGTERM, then SIGKILL after the grace period. "
              + "A canceled job cannot be started again.", "Cancel the job"],
            requeue: ["Requeue job " + job.id + "?", "Its processes are stopped and it goes back to the queue, "
              + "spending no retry.", "Requeue it"],
          };
          if (asks[action]) {
            const answer = await confirmAction(asks[action][0], asks[action][1], asks[action][2], false);
            if (!answer) return;
          }
          try {
            const updated = await post("/v1/jobs/" + enc(job.id) + "/" + action);
            const done = { cancel: "cancel", hold: "hold", release: "release", requeue: "requeue" }[action];
            say("Job " + job.id + ": " + done + " sent; it is " + updated.state
              + (updated.stopping ? " (stopping: " + updated.stopping + ")" : "") + ".");
            showJob(updated);
            // The button pressed may be gone now: the heading keeps the focus in the view.
            const focused = document.activeElement;
            if (!focused || focused === document.body || focused.hidden) $("job-heading").focus();
          } catch (error) {
            if (error.status !== 401) showError("Could not " + action + " job " + job.id + ": " + error.message);
          }
        }

        // The log, followed: the tail first, then whatever was appended since, every second.
        async function followLog(live, id) {
          const pre = $("job-log");
          pre.replaceChildren();
          const path = "/v1/jobs/" + enc(id) + "/logs";
          let attempt = null;
          let offset = 0;
          let decoder = new TextDecoder();
          let shown = 0;
          const append = (text) => {
            if (!text) return;
            pre.appendChild(document.createTextNode(text));
            shown += text.length;
            while (shown > logCap && pre.firstChild) {
              shown -= pre.firstChild.textContent.length;
              pre.removeChild(pre.firstChild);
            }
            if ($("log-follow").checked) pre.scrollTop = pre.scrollHeight;
          };
          await every(1000, live, async () => {
            if (!$("log-follow").checked && attempt !== null) return;
            const head = await request("GET", path + "?offset=" + (attempt === null ? Number.MAX_SAFE_INTEGER : offset));
            if (!live()) return;
            const current = head.headers.get("X-Corral-Attempt");
            const size = Number(head.headers.get("X-Corral-Log-Size") || "0");
            const state = head.headers.get("X-Corral-Job-State") || "";
            let response = head;
            if (current !== attempt) {
              if (attempt !== null && attempt !== "0") append("\n--- attempt " + current + " ---\n");
              attempt = current;
              decoder = new TextDecoder();
              offset = Math.max(0, size - 65536);
              if (offset > 0) append("[the first " + bytes(offset) + " are not shown]\n");
              response = await request("GET", path + "?offset=" + offset);
              if (!live()) return;
            }
            const chunk = new Uint8Array(await response.arrayBuffer());
            offset += chunk.length;
            append(decoder.decode(chunk, { stream: true }));
            const total = Number(response.headers.get("X-Corral-Log-Size") || "0");
            const over = finished.includes(state) && offset >= total;
            $("log-state").textContent = over ? "The job has ended (" + state + "): this is the whole log."
              : state === "QUEUED" ? "The job has not started yet." : "Following: " + bytes(total) + " so far.";
            if (over) { append(decoder.decode()); stopLog(); }
          });
        }

        let stopLog = () => {};

        app.views.job = async (live, id) => {
          if (jobPage.id !== id) {
            jobPage.id = id;
            jobPage.job = null;
            for (const part of ["job-state", "job-details", "job-attempts", "job-events", "job-log"]) {
              $(part).replaceChildren();
            }
            for (const action of ["cancel", "hold", "release", "requeue"]) $("job-" + action).hidden = true;
            $("log-state").textContent = "";
          }
          let logging = true;
          stopLog = () => { logging = false; };
          const logLive = () => live() && logging;
          const jobs = every(3000, live, async () => {
            const [job, events] = await Promise.all([
              api("/v1/jobs/" + enc(id)), api("/v1/jobs/" + enc(id) + "/events"),
            ]);
            if (!live()) return;
            showJob(job);
            fill($("job-events"), events.events.map((e) => row([
              when(e.at), num(String(e.attempt)), e.from || "-", stateCell(e.to || "-"),
              e.reason + (e.applied ? "" : " (refused)"), e.node || "",
            ])));
          });
          await Promise.all([jobs, followLog(logLive, id).catch((error) => {
            if (live() && error.status !== 401) showError("The log: " + error.message);
          })]);
        };

        function setupJob() {
          for (const action of ["cancel", "hold", "release", "requeue"]) {
            $("job-" + action).addEventListener("click", () => jobAction(action));
          }
          $("log-follow").addEventListener("change", () => {
            if ($("log-follow").checked) $("job-log").scrollTop = $("job-log").scrollHeight;
          });
        }

        """#
}
