#!/usr/bin/env bash
# Durable submissions over HTTP as issue 16's table measures them: wrk, 32 keep-alive connections, each POSTing
# a trivial job and waiting for its 201 (sent only once the job is committed and synced), on a controller that
# starts with an empty queue and has no node (so nothing starts, and every pass the submissions ask for is a lazy
# one: docs/scheduling.md). Windows run back to back on one controller, so the queue grows from one window to the
# next: the rates show whether the figure stays flat as it does.
#   scripts/bench-submit-wrk.sh ENDPOINT TOKEN [SECONDS] [WINDOWS] [CONNECTIONS]
# prints "RATE QUEUED" per window (jobs/s, and the jobs the controller had stored by the window's end), and exits
# non-zero, saying why, when wrk failed or met socket errors, a response was not 2xx, the metrics could not be
# read, or the controller counted fewer submissions than wrk was answered.
set -euo pipefail
endpoint="$1"; token="$2"; seconds="${3:-4}"; windows="${4:-3}"; connections="${5:-32}"
command -v wrk >/dev/null || { echo "bench-submit-wrk: wrk is not installed (scripts/bench-http.sh installs it)" >&2; exit 1; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# The token goes in files only this user reads (wrk's script, curl's header file), not on their command lines.
umask 077
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"command":["true"],"cpus":1,"cwd":"/tmp","name":"bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
printf 'Authorization: Bearer %s\n' "$token" >"$work/header"
fail() { echo "bench-submit-wrk: $*" >&2; exit 1; }
submitted() {  # what the controller counted, from its metrics (every queue)
    local text
    text="$(curl -fsS -H @"$work/header" "$endpoint/metrics")" || fail "cannot read $endpoint/metrics"
    awk '/^corral_job_submissions_total/ { sum += $NF } END { printf "%d", sum }' <<<"$text"
}
answered=0
for _ in $(seq "$windows"); do
    out="$(wrk -t2 -c"$connections" -d"${seconds}s" -s "$work/post.lua" "$endpoint/v1/jobs" 2>&1)" ||
        fail "wrk failed: $out"
    if grep -qE "Non-2xx|Socket errors" <<<"$out"; then fail "$(grep -E "Non-2xx|Socket errors" <<<"$out")"; fi
    rate="$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")"
    count="$(awk '/requests in/ { print $1 }' <<<"$out")"
    [ -n "$rate" ] && [ -n "$count" ] || fail "no rate in wrk's output: $out"
    answered=$((answered + count))
    queued="$(submitted)"
    echo "$rate $queued"
done
stored="$(submitted)"
# A request wrk gave up on at the window's end may still have been stored: more is fine, fewer is a loss.
[ "$stored" -ge "$answered" ] || fail "wrk was answered $answered times, the controller counted $stored submissions"
