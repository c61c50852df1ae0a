#!/usr/bin/env bash
# Durable submissions over HTTP as issue 16's table measures them: wrk, 32 keep-alive connections, each POSTing
# a trivial job and waiting for its 201 (sent only once the job is committed and synced), on a controller that
# starts with an empty queue. Windows run back to back on one controller, so the queue grows from one window to
# the next: the rates show whether the figure stays flat as it does.
#   scripts/bench-submit-wrk.sh ENDPOINT TOKEN [SECONDS] [WINDOWS] [CONNECTIONS]
# prints "RATE QUEUED" per window (jobs/s, and the jobs the controller had stored by the window's end), then
# fails when a response was not 2xx or when the controller counted fewer submissions than wrk was answered.
set -euo pipefail
endpoint="$1"; token="$2"; seconds="${3:-4}"; windows="${4:-3}"; connections="${5:-32}"
command -v wrk >/dev/null || { echo "bench-submit-wrk: wrk is not installed (scripts/bench-http.sh installs it)" >&2; exit 1; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# The token goes in a file only this user reads, never on a command line.
umask 077
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"command":["true"],"cpus":1,"cwd":"/tmp","name":"bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
submitted() {  # what the controller counted, from its metrics (every queue)
    curl -fsS -H "Authorization: Bearer $token" "$endpoint/metrics" |
        awk '/^corral_job_submissions_total/ { sum += $NF } END { printf "%d", sum }'
}
answered=0
for _ in $(seq "$windows"); do
    out="$(wrk -t2 -c"$connections" -d"${seconds}s" -s "$work/post.lua" "$endpoint/v1/jobs" 2>&1)"
    if grep -q "Non-2xx" <<<"$out"; then echo "bench-submit-wrk: $(grep Non-2xx <<<"$out")" >&2; exit 1; fi
    rate="$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")"
    count="$(awk '/requests in/ { print $1 }' <<<"$out")"
    [ -n "$rate" ] && [ -n "$count" ] || { echo "bench-submit-wrk: no rate in wrk's output: $out" >&2; exit 1; }
    answered=$((answered + count))
    echo "$rate $(submitted)"
done
stored="$(submitted)"
# A request wrk gave up on at the window's end may still have been stored: more is fine, fewer is a loss.
if [ "$stored" -lt "$answered" ]; then
    echo "bench-submit-wrk: wrk was answered $answered times, the controller counted $stored submissions" >&2
    exit 1
fi
