extension Dashboard {
    /// The page: one section per view (sign-in, jobs, a job, nodes, a node, queues), all hidden until the
    /// script shows the one the address asks for (`#/jobs`, `#/jobs/ID`, `#/nodes`, `#/nodes/ID`, `#/queues`).
    /// Landmarks (header, nav, main), a label for every input, tables with captions and column headers, a
    /// polite live region for what an action did and an alert region for errors; each view's heading takes the
    /// focus when the view changes.
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
        <header class="top">
        <p class="brand">Corral</p>
        <nav id="nav" aria-label="Dashboard" hidden>
        <ul>
        <li><a href="#/jobs" data-section="jobs">Jobs</a></li>
        <li><a href="#/nodes" data-section="nodes">Nodes</a></li>
        <li><a href="#/queues" data-section="queues">Queues</a></li>
        </ul>
        </nav>
        <p id="who"></p>
        <button id="logout" type="button" hidden>Forget token</button>
        </header>
        <div id="status" class="status" role="status" aria-live="polite"></div>
        <div id="error" class="error" role="alert"></div>
        <main id="main">

        <section id="login-page" class="page" aria-labelledby="login-heading" hidden>
        <h1 id="login-heading" tabindex="-1">Sign in</h1>
        <form id="login">
        <p>Type a Corral token (<code>corral tokens create</code>, or the controller's <code>admin.token</code>).
        It stays in this browser tab only.</p>
        <p><label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
        <button type="submit">Show the cluster</button></p>
        <p id="login-error" class="error" role="alert"></p>
        </form>
        </section>

        <section id="jobs-page" class="page" aria-labelledby="jobs-heading" hidden>
        <h1 id="jobs-heading" tabindex="-1">Jobs</h1>
        <ul id="summary" class="summary" aria-label="Cluster summary"></ul>
        <form id="filters" class="filters" role="search" aria-label="Filter jobs">
        <p><label for="filter-state">State</label>
        <select id="filter-state" name="state">
        <option value="">any state</option>
        <option>QUEUED</option><option>ALLOCATED</option><option>STARTING</option><option>RUNNING</option>
        <option>SUCCEEDED</option><option>FAILED</option><option>CANCELED</option><option>LOST</option>
        </select></p>
        <p><label for="filter-user">User</label>
        <input id="filter-user" name="user" autocomplete="off" spellcheck="false"></p>
        <p><label for="filter-queue">Queue</label>
        <input id="filter-queue" name="queue" autocomplete="off" spellcheck="false" list="queue-names">
        <datalist id="queue-names"></datalist></p>
        <p><label for="filter-name">Name</label>
        <input id="filter-name" name="name" autocomplete="off" spellcheck="false"></p>
        <p><button type="submit">Filter</button> <button type="button" id="filter-clear">Clear filters</button></p>
        </form>
        <table class="list">
        <caption id="jobs-caption">Jobs, newest first</caption>
        <thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">User</th><th scope="col">Queue</th>
        <th scope="col">State</th><th scope="col">GPUs</th><th scope="col">Node</th><th scope="col">Age</th>
        <th scope="col">Reason or result</th></tr></thead>
        <tbody id="jobs"></tbody>
        </table>
        <p id="jobs-empty" hidden>No job matches these filters.</p>
        <p><button type="button" id="jobs-more" hidden>Show older jobs</button> <span id="jobs-updated" class="quiet">
        </span></p>
        </section>

        <section id="job-page" class="page" aria-labelledby="job-heading" hidden>
        <p><a href="#/jobs">All jobs</a></p>
        <h1 id="job-heading" tabindex="-1">Job</h1>
        <p id="job-state" class="state-line"></p>
        <div class="actions" role="group" aria-label="Job actions">
        <button type="button" id="job-cancel" class="danger" hidden>Cancel job</button>
        <button type="button" id="job-hold" hidden>Hold</button>
        <button type="button" id="job-release" hidden>Release</button>
        <button type="button" id="job-requeue" hidden>Requeue</button>
        </div>
        <h2>Details</h2>
        <dl id="job-details" class="details"></dl>
        <table class="list">
        <caption>Attempts</caption>
        <thead><tr><th scope="col">Attempt</th><th scope="col">Node</th><th scope="col">GPUs</th>
        <th scope="col">State</th><th scope="col">Allocated</th><th scope="col">Started</th><th scope="col">Ended</th>
        <th scope="col">Exit</th><th scope="col">Message</th></tr></thead>
        <tbody id="job-attempts"></tbody>
        </table>
        <table class="list">
        <caption>Events, oldest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Attempt</th><th scope="col">From</th><th scope="col">To</th>
        <th scope="col">Reason</th><th scope="col">Node</th></tr></thead>
        <tbody id="job-events"></tbody>
        </table>
        <h2 id="log-heading">Log</h2>
        <p><input type="checkbox" id="log-follow" checked> <label for="log-follow">Follow the log live</label>
        <span id="log-state" class="quiet"></span></p>
        <pre id="job-log" class="log" tabindex="0" aria-labelledby="log-heading"></pre>
        </section>

        <section id="nodes-page" class="page" aria-labelledby="nodes-heading" hidden>
        <h1 id="nodes-heading" tabindex="-1">Nodes</h1>
        <table class="list">
        <caption id="nodes-caption">Nodes</caption>
        <thead><tr id="nodes-head"><th scope="col">Node</th><th scope="col">Status</th><th scope="col">GPUs in use</th>
        <th scope="col">GPU utilization</th><th scope="col">CPUs in use</th><th scope="col">Memory in use</th>
        <th scope="col">Agent</th><th scope="col">Last heartbeat</th><th scope="col">Note</th></tr></thead>
        <tbody id="nodes"></tbody>
        </table>
        <p id="nodes-updated" class="quiet"></p>
        </section>

        <section id="node-page" class="page" aria-labelledby="node-heading" hidden>
        <p><a href="#/nodes">All nodes</a></p>
        <h1 id="node-heading" tabindex="-1">Node</h1>
        <p id="node-state" class="state-line"></p>
        <div class="actions" role="group" aria-label="Node actions">
        <button type="button" id="node-drain" class="danger" hidden>Drain node</button>
        <button type="button" id="node-resume" hidden>Resume node</button>
        </div>
        <h2>Details</h2>
        <dl id="node-details" class="details"></dl>
        <table class="list">
        <caption>GPUs</caption>
        <thead><tr><th scope="col">Index</th><th scope="col">Model</th><th scope="col">Utilization</th>
        <th scope="col">Memory used</th><th scope="col">Health</th><th scope="col">Job</th></tr></thead>
        <tbody id="node-gpus"></tbody>
        </table>
        <h2 id="util-heading">GPU utilization, the last hour</h2>
        <figure id="util-figure" class="chart" aria-labelledby="util-heading">
        <div id="util-chart"></div>
        <figcaption><ul id="util-summary"></ul></figcaption>
        </figure>
        </section>

        <section id="queues-page" class="page" aria-labelledby="queues-heading" hidden>
        <h1 id="queues-heading" tabindex="-1">Queues</h1>
        <p>Wait time: from submission to placement on a node, for the jobs placed in the last hour (p50 is the
        median, p95 the time 95 in 100 of them waited at most).</p>
        <table class="list">
        <caption>Queues, highest priority first</caption>
        <thead><tr><th scope="col">Queue</th><th scope="col">Priority</th><th scope="col">Pending</th>
        <th scope="col">Running</th><th scope="col">GPUs in use</th><th scope="col">Wait p50</th>
        <th scope="col">Wait p95</th><th scope="col">Placed in the last hour</th><th scope="col">Preemptible</th>
        </tr></thead>
        <tbody id="queues"></tbody>
        </table>
        <p id="queues-updated" class="quiet"></p>
        </section>
        </main>

        <dialog id="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text">
        <form id="confirm-form">
        <h2 id="confirm-title">Are you sure?</h2>
        <p id="confirm-text"></p>
        <p id="confirm-reason-row" hidden><label for="confirm-reason">Reason (optional)</label>
        <input id="confirm-reason" maxlength="200" autocomplete="off"></p>
        <p class="actions"><button type="submit" id="confirm-yes" class="danger">Yes</button>
        <button type="button" id="confirm-no">No, go back</button></p>
        </form>
        </dialog>
        </body>
        </html>

        """
}
