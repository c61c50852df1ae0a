#!/usr/bin/env bash
# Submit-to-first-instruction latency on an idle local cluster, N times: from just before `corral submit`
# starts to the job's own first command (`date` in the job's shell). A first look until `just bench` exists.
#   scripts/latency.sh [N] [BIN_DIR]
set -euo pipefail
n="${1:-20}"; bin="${2:-$(swift build --show-bin-path)}"
work="$(mktemp -d)"; export HOME="$work/home"; mkdir -p "$HOME"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
roots=(); [ "$(id -u)" = 0 ] && roots=(--root-users admin)
"$bin/corral-controller" --data-dir "$work/ctl" --listen 127.0.0.1:0 --default-unix-user "$(id -un)" "${roots[@]}" >"$work/ctl.log" 2>&1 &
for _ in $(seq 100); do [ -f "$work/ctl/endpoint" ] && break; sleep 0.05; done
endpoint=$(cat "$work/ctl/endpoint")
"$bin/corral-agent" configure --config "$work/agent.toml" --endpoint "$endpoint" \
    --cluster-token "$(cat "$work/ctl/cluster.token")" --node-id bench --declare-gpus 8 --cpus 64 --state-dir "$work/agent" \
    $([ "$(id -u)" = 0 ] && echo --cgroup-parent "corral-latency-$$" || echo --allow-uncontained) >/dev/null
"$bin/corral-agent" start --config "$work/agent.toml" >"$work/agent.log" 2>&1 &
"$bin/corral" configure --endpoint "$endpoint" --token "$(cat "$work/ctl/admin.token")" >/dev/null
for _ in $(seq 100); do "$bin/corral" nodes 2>/dev/null | grep -q READY && break; sleep 0.05; done
for i in $(seq "$n"); do
    start=$(date +%s%N)
    "$bin/corral" submit -- sh -c "date +%s%N > $work/t$i" >/dev/null
    while [ ! -s "$work/t$i" ]; do sleep 0.001; done
    echo $(( ($(cat "$work/t$i") - start) / 1000 ))
done | sort -n | awk '{ a[NR] = $1 } END { printf "runs %d  p50 %.1f ms  p90 %.1f ms  min %.1f ms  max %.1f ms\n", NR, a[int(NR*0.5)+0]/1000, a[int(NR*0.9)]/1000, a[1]/1000, a[NR]/1000 }'
