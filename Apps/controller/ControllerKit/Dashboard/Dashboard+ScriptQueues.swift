extension Dashboard {
    /// The queues view (`#/queues`): each queue's load and how long its jobs waited for a node (p50 and p95
    /// over the jobs placed in the last hour, as `GET /v1/queues` gives them; "-" when none was placed), and
    /// the script's start: the listeners, then the token of this tab if it has one.
    static let scriptQueues = #"""
        app.views.queues = async (live) => {
          await every(5000, live, async () => {
            const list = await api("/v1/queues");
            if (!live()) return;
            fill($("queues"), list.queues.map((q) => row([
              el("th", q.name), num(String(q.priority)), num(String(q.pending)), num(String(q.running)),
              num(String(q.gpus_in_use)),
              num(typeof q.wait_p50_seconds === "number" ? duration(q.wait_p50_seconds) : "-"),
              num(typeof q.wait_p95_seconds === "number" ? duration(q.wait_p95_seconds) : "-"),
              num(typeof q.waits_counted === "number" ? String(q.waits_counted) : "0"),
              q.preemptible ? "yes" : "no",
            ])));
            for (const th of $("queues").querySelectorAll("th")) th.scope = "row";
            $("queues-updated").textContent = "Updated " + new Date().toLocaleTimeString() + ", every 5 s.";
          });
        };

        document.addEventListener("DOMContentLoaded", () => {
          $("login").addEventListener("submit", (event) => {
            event.preventDefault();
            sessionStorage.setItem(tokenKey, $("token").value.trim());
            $("token").value = "";
            signIn(true);
          });
          $("logout").addEventListener("click", () => {
            sessionStorage.removeItem(tokenKey);
            say("The token is forgotten.");
            showLogin("");
          });
          window.addEventListener("hashchange", () => {
            const moveFocus = !app.keepFocus;
            app.keepFocus = false;
            render(moveFocus);
          });
          setupJobs();
          setupJob();
          setupNodes();
          signIn(false);
        });

        """#
}
