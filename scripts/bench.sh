#!/usr/bin/env bash
# `just bench [full|quick]`: builds what `just install` installs (release, the Swift libraries linked in), runs
# every figure of issues 8 and 16 against real daemons on loopback (median, min and max of several runs), prints a
# table and writes bench-results/bench-<date>.json.
# docs/PERFORMANCE.md records a full run and what bounds each figure.
#   scripts/bench.sh [full|quick]      CORRAL_BIN_DIR=DIR skips the build and uses the binaries in DIR.
#   CORRAL_BENCH_FLEET_JOBS=N sets the simulated jobs of the last phase (full: 100,000).
set -euo pipefail
mode="${1:-full}"
case "$mode" in
    full)  wrk_s=10; wrk_runs=3; sched_runs=10; http_s=4; http_runs=3; cli_s=4; cli_runs=3; drain_jobs=1000; drain_runs=3
           latency_n=30; fleet_nodes=10000; fleet_s=10; fleet_runs=3; jobs_nodes=1000; fleet_jobs=100000; big_fleet_jobs=10000
           ls_jobs=10000; ls_runs=5; seeded_jobs=1000000 ;;
    quick) wrk_s=3; wrk_runs=2; sched_runs=3; http_s=2; http_runs=2; cli_s=2; cli_runs=2; drain_jobs=300; drain_runs=2
           latency_n=10; fleet_nodes=1000; fleet_s=4; fleet_runs=2; jobs_nodes=200; fleet_jobs=500; big_fleet_jobs=1000
           ls_jobs=2000; ls_runs=3; seeded_jobs=20000 ;;
    *) echo "usage: scripts/bench.sh [full|quick]" >&2; exit 2 ;;
esac
fleet_jobs="${CORRAL_BENCH_FLEET_JOBS:-$fleet_jobs}"
root="$(cd "$(dirname "$0")/.." && pwd)"; cd "$root"
work="$(mktemp -d /tmp/corral-bench.XXXXXX)"
if [ -z "${CORRAL_BIN_DIR:-}" ]; then
    # The build `just install` makes and installs: users run these binaries, not the ones SwiftPM links to the
    # toolchain's shared Swift libraries (those start slower and hold more memory: docs/PERFORMANCE.md).
    echo "building release as just install does (one build for all four binaries)..."
    scripts/build-installed.sh >"$work/build.log" 2>&1 ||
        { grep -E "error" "$work/build.log" | head -20; rm -rf "$work"; exit 1; }
    tail -1 "$work/build.log"
fi
bin="${CORRAL_BIN_DIR:-$(scripts/build-installed.sh --show-bin-path)}"
export HOME="$work/home"; mkdir -p "$HOME"
figures="$work/figures.jsonl"; : >"$figures"
pids=()
# The agents' cgroups (under corral-bench-PID in each hierarchy, below wherever the agent itself runs) go too.
remove_cgroups() {
    find /sys/fs/cgroup -maxdepth 6 -type d \( -name "corral-bench-$$" -o -name "corral-bench-$$-floor" \) 2>/dev/null | while read -r dir; do
        find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
}
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ "$(id -u)" = 0 ] && remove_cgroups
    pg_stop
    mountpoint -q "$work/records" 2>/dev/null && umount -l "$work/records"
    mountpoint -q "$work/node" 2>/dev/null && { umount "$work/node" 2>/dev/null || umount -l "$work/node"; }
    rm -rf "$work"
}
trap cleanup EXIT
bench() { "$bin/corral-bench" "$@"; }
. "$root/scripts/bench-postgres.sh"
# Clock readings from bash itself, in microseconds, taken in this shell: `stamp start` sets $start. Forking `date`
# for them, or reading the clock in a `$(...)` subshell, would put a process start or a fork inside every span.
stamp() { printf -v "$1" '%s' "${EPOCHREALTIME//[!0-9]/}"; }
ms_between() { echo "scale=3; ($2 - $1) / 1000" | bc; }
note() { echo "[$(date +%T)] $*" >&2; }

start_controller() {  # NAME [FLAG...]: a fresh controller with its own data dir; sets ctl_pid, endpoint, admin, cluster
    local dir="$work/$1"
    "$bin/corral-controller" --data-dir "$dir" --listen 127.0.0.1:0 --default-unix-user "$(id -un)" \
        $([ "$(id -u)" = 0 ] && echo --root-users admin) "${@:2}" >"$dir.log" 2>&1 &
    ctl_pid=$!; pids+=("$ctl_pid")
    # Up to a minute: the last phase's controller starts on a million stored jobs (2 s on an idle machine).
    for _ in $(seq 1200); do [ -s "$dir/endpoint" ] && break; sleep 0.05; done
    endpoint="$(cat "$dir/endpoint")"; admin="$(cat "$dir/admin.token")"; cluster="$(cat "$dir/cluster.token")"
    "$bin/corral" configure --endpoint "$endpoint" --token "$admin" >/dev/null
}
stop_controller() { kill "$ctl_pid" 2>/dev/null || true; wait "$ctl_pid" 2>/dev/null || true; }
rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
extra() { grep -o "\"$2\":[0-9.e+-]*" <<<"$1" | cut -d: -f2; }  # a number from a figure's JSON line

note "scheduling pass"
bench scheduler --jobs 10000 --nodes 1000 --gpus 8 --runs "$sched_runs" >>"$figures"
note "scheduling pass with 30 pending jobs on 1,000 nodes (the usual pass)"
bench scheduler --jobs 30 --nodes 1000 --gpus 8 --runs "$sched_runs" >>"$figures"
note "scheduling pass with 100 pending gangs among the 10,000 jobs"
bench scheduler --jobs 10000 --nodes 1000 --gpus 8 --gangs 100 --runs "$sched_runs" >>"$figures"

note "HTTP server: small JSON GET, keep-alive, 64 connections (wrk), next to nginx"
while read -r name unit values; do
    bench figure --name "http_$name" --unit "$unit" \
        --notes "wrk -t2 -c64: corral-controller GET /healthz (15 bytes of JSON) vs nginx serving the same bytes" \
        $values >>"$figures"
done < <("$root/scripts/bench-http.sh" "$bin" "$wrk_s" "$wrk_runs" 2>"$work/http.log")

note "durable submissions over HTTP, 32 keep-alive connections (wrk), the queue growing from empty"
start_controller submit-wrk
windows=()
queued_after=()
# Through a file: a process substitution's exit status is lost, and the script's last check (nothing lost) comes
# after its last window.
"$root/scripts/bench-submit-wrk.sh" "$endpoint" "$admin" "$http_s" "$http_runs" >"$work/submit-wrk.txt" ||
    { echo "bench: the wrk submissions failed (above)" >&2; exit 1; }
while read -r rate queued; do windows+=("$rate"); queued_after+=("$queued"); done <"$work/submit-wrk.txt"
bench figure --name submit_http_wrk --unit jobs/s \
    --notes "wrk -t2 -c32 POST /v1/jobs, each 201 after commit and sync, no node (every pass lazy); $http_runs windows \
of $http_s s back to back, the queue at ${queued_after[*]} jobs after each (rates in that order: ${windows[*]})" \
    "${windows[@]}" >>"$figures"
stop_controller

note "durable submissions over HTTP, 32 clients of CorralClient's HTTP client (corral-bench)"
start_controller submit
bench submit-http --endpoint "$endpoint" --token "$admin" --clients 32 --seconds "$http_s" --runs "$http_runs" >>"$figures"

note "one array of 10,000 tasks: corral submit --array 0-9999 until its id is printed (every task stored)"
array_ms=()
for _ in $(seq "$http_runs"); do
    stamp start
    array_id="$("$bin/corral" submit --array 0-9999 -- true)"
    stamp end
    array_ms+=("$(ms_between "$start" "$end")")
    "$bin/corral" cancel "$array_id" >/dev/null  # the next run starts with no array queued
done
bench figure --name array_submit_10000 --unit ms \
    --notes "corral submit --array 0-9999 (CLI start, one request, 10,000 jobs and events in one transaction)" \
    "${array_ms[@]}" >>"$figures"

stop_controller

note "durable submissions over HTTP on PostgreSQL (a local server, fsync on), 32 clients (corral-bench)"
if pg_start; then
    start_controller submit-pg --database "$pg_url" --database-password-file "$pg_password_file"
    bench submit-http --name submit_http_postgres --endpoint "$endpoint" --token "$admin" --clients 32 \
        --seconds "$http_s" --runs "$http_runs" >>"$figures"
    standby_phase
    pg_stop
fi

note "4 parallel corral submit loops"
start_controller cli
rates=()
for _ in $(seq "$cli_runs"); do
    stamp start; deadline=$(( start + cli_s * 1000000 ))
    loops=()
    for p in 1 2 3 4; do
        ( n=0; while stamp now && [ "$now" -lt "$deadline" ]; do "$bin/corral" submit -- true >/dev/null; n=$((n + 1)); done
          echo "$n" >"$work/cli.$p" ) &
        loops+=("$!")
    done
    wait "${loops[@]}"
    stamp end
    total=$(cat "$work"/cli.? | paste -sd+ | bc)
    rates+=("$(echo "scale=1; $total * 1000000 / ($end - $start)" | bc)")
done
bench figure --name submit_cli --unit jobs/s --notes "4 parallel loops of \`corral submit -- true\` (a process each)" \
    "${rates[@]}" >>"$figures"

note "corral ls over $ls_jobs jobs"
bench fill --endpoint "$endpoint" --token "$admin" --jobs "$ls_jobs" >/dev/null
times=()
for _ in $(seq "$ls_runs"); do
    stamp start; "$bin/corral" ls >/dev/null; stamp end; times+=("$(ms_between "$start" "$end")")
done
bench figure --name ls_10000_jobs --unit ms --notes "\`corral ls\` (newest 1000 active jobs) with $ls_jobs+ jobs queued" \
    "${times[@]}" >>"$figures"
stop_controller

note "corral --help, and squeue --version when Slurm's client is installed"
# Interleaved, after two runs of each to warm the page cache: the VM's speed drifts within seconds, and the two
# rows are compared with each other. squeue reads a configuration even for --version (without one it fails at
# once, which would time nothing useful): a minimal one of its own.
printf 'ClusterName=bench\nSlurmctldHost=localhost\n' >"$work/slurm.conf"
squeue=""
if command -v squeue >/dev/null && SLURM_CONF="$work/slurm.conf" squeue --version >/dev/null 2>&1; then squeue=1; fi
help_times=()
squeue_times=()
for i in $(seq 32); do
    stamp start; "$bin/corral" --help >/dev/null; stamp end
    [ "$i" -gt 2 ] && help_times+=("$(ms_between "$start" "$end")")
    if [ -n "$squeue" ]; then
        stamp start; SLURM_CONF="$work/slurm.conf" squeue --version >/dev/null; stamp end
        [ "$i" -gt 2 ] && squeue_times+=("$(ms_between "$start" "$end")")
    fi
done
bench figure --name help --unit ms --notes "process start to exit (the build of just install)" "${help_times[@]}" \
    >>"$figures"
if [ -n "$squeue" ]; then
    bench figure --name help_squeue --unit ms --notes "squeue --version, interleaved with corral --help" \
        "${squeue_times[@]}" >>"$figures"
fi

# The nodes' disk for the floor and the drain: a fresh ext4 with a journal (mkfs.ext4's default, what a node has) in
# an image on a loop device, initialised whole now (no background zeroing during the figures), so that these
# figures do not depend on what ran before them. This VM's own ext4 has no journal, and ext4 without one skips,
# for each file it makes, every inode freed in the last 60 s (360 s while the inode table's block is dirty): a
# test run or an `rm -rf` minutes earlier cost the drain up to a fifth (docs/PERFORMANCE.md). Without root, or
# without mkfs.ext4, the temporary directory serves.
node_disk="$work"
if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null && truncate -s 4G "$work/node-disk.img" \
    && mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$work/node-disk.img" && mkdir -p "$work/node" \
    && mount -o loop "$work/node-disk.img" "$work/node"; then
    node_disk="$work/node"
fi

note "the floor under the drain: trivial jobs spawned as a supervisor does, in cgroups as the agent makes them"
# The hierarchies the agent's jobs get here (Containment): cgroup v2 alone, or on a hybrid host the unified one
# for tracking and v1 cpu, memory and devices.
floor_cgroups=""
if [ "$(id -u)" = 0 ]; then
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        floor_cgroups="/sys/fs/cgroup/corral-bench-$$-floor"
    elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
        floor_cgroups="/sys/fs/cgroup/unified/corral-bench-$$-floor"
        for c in cpu memory devices; do
            if [ -d "/sys/fs/cgroup/$c" ]; then floor_cgroups="$floor_cgroups,/sys/fs/cgroup/$c/corral-bench-$$-floor"; fi
        done
    fi
fi
bench spawn-floor --dir "$node_disk/floor" --jobs "$((drain_jobs * 2))" --runs "$drain_runs" \
    $([ -n "$floor_cgroups" ] && echo --cgroup-parents "$floor_cgroups") >>"$figures"
# Its logs stay until the end: on an ext4 without a journal (this VM's disk) every file made in the next
# minutes would otherwise skip past the 6,000 inodes just freed (ext4's recently_deleted, docs/PERFORMANCE.md).

note "trivial jobs through two real agents (16 CPUs each, 32 slots)"
start_controller drain
agents=()
# The agents' job records on a tmpfs (records_dir), as /run is on a systemd host: docs/operations.md. As root the
# bench mounts its own (this machine's /run is on disk); otherwise the records stay in the state directory.
records=""
if [ "$(id -u)" = 0 ] && mkdir -p "$work/records" && mount -t tmpfs -o size=256m,mode=0700 corral-bench "$work/records"; then
    records="$work/records"
fi
for a in 1 2; do
    "$bin/corral-agent" configure --config "$work/agent$a.toml" --endpoint "$endpoint" --cluster-token "$cluster" \
        --node-id "agent$a" --declare-gpus 0 --cpus 16 --memory 32G --state-dir "$node_disk/agent$a" \
        $([ "$(id -u)" = 0 ] && echo --cgroup-parent "corral-bench-$$/agent$a" || echo --allow-uncontained) >/dev/null
    if [ -n "$records" ]; then
        { echo "records_dir = \"$records/agent$a\""; cat "$work/agent$a.toml"; } >"$work/agent$a.toml.new"
        mv "$work/agent$a.toml.new" "$work/agent$a.toml"; chmod 600 "$work/agent$a.toml"
    fi
    "$bin/corral-agent" start --config "$work/agent$a.toml" >"$work/agent$a.log" 2>&1 &
    agents+=("$!"); pids+=("$!")
done
for _ in $(seq 200); do [ "$("$bin/corral" nodes 2>/dev/null | grep -c READY)" -ge 2 ] && break; sleep 0.05; done
sleep 1
bench figure --name agent_rss_idle --unit MiB --notes "VmRSS of each registered, idle agent" \
    "$(rss_mib "${agents[0]}")" "$(rss_mib "${agents[1]}")" >>"$figures"
line=$(bench drain --endpoint "$endpoint" --token "$admin" --jobs "$drain_jobs" --clients 32 --runs "$drain_runs" \
    --controller-pid "$ctl_pid")
echo "$line" >>"$figures"
bench figure --name controller_rss_1000_jobs --unit MiB \
    --notes "VmRSS after the first batch of $drain_jobs jobs ran to completion (2 nodes)" \
    "$(extra "$line" controller_rss_mib_after_first_batch)" >>"$figures"

note "submit to the job's first instruction, $latency_n runs"
samples=()
for i in $(seq "$latency_n"); do
    stamp start
    "$bin/corral" submit -- sh -c "date +%s%N > $work/t$i" >/dev/null
    while [ ! -s "$work/t$i" ]; do sleep 0.001; done
    samples+=("$(echo "scale=3; ($(cat "$work/t$i") / 1000 - $start) / 1000" | bc)")
done
bench figure --name latency --unit ms --notes "p50 as median; from just before \`corral submit\` to the job's \`date\`" \
    "${samples[@]}" >>"$figures"
kill "${agents[@]}"; wait "${agents[@]}" 2>/dev/null || true
stop_controller

# Every simulated node long-polls and heartbeats every 5 s, as a real agent does; jobs are submitted in
# batches of 1,000 and each runs 50 ms.
note "fleet simulator: $fleet_nodes nodes heartbeating every 5 s, then running $big_fleet_jobs jobs"
start_controller fleet
line=$(bench fleet --endpoint "$endpoint" --cluster-token "$cluster" --nodes "$fleet_nodes" --interval 5 \
    --seconds "$fleet_s" --runs "$fleet_runs" --controller-pid "$ctl_pid" --job-ms 50 --jobs "$big_fleet_jobs" \
    --token "$admin")
echo "$line" >>"$figures"
bench figure --name fleet_jobs_10000_nodes --unit jobs/s \
    --notes "$big_fleet_jobs jobs submitted and run to exit on $fleet_nodes simulated nodes (the controller's \
cores: heartbeats=$(extra "$line" controller_cores))" \
    "$(echo "scale=1; $big_fleet_jobs / $(extra "$line" jobs_run_s)" | bc)" >>"$figures"
stop_controller

# The controller of this phase starts on a database that already holds $seeded_jobs finished jobs (written by
# `corral-bench seed` through the controller's store), so its memory is measured after more than a million.
note "seeding $seeded_jobs finished jobs, then fleet simulator: $jobs_nodes nodes running $fleet_jobs simulated jobs"
mkdir -m 700 "$work/fleet-jobs"
bench seed --data-dir "$work/fleet-jobs" --jobs "$seeded_jobs" --nodes "$jobs_nodes" >>"$figures"
start_controller fleet-jobs
bench figure --name controller_rss_after_start --unit MiB \
    --notes "VmRSS once started on $seeded_jobs finished jobs (it holds the newest 10,000)" \
    "$(rss_mib "$ctl_pid")" >>"$figures"
line=$(bench fleet --endpoint "$endpoint" --cluster-token "$cluster" --nodes "$jobs_nodes" --interval 5 --seconds 1 \
    --runs 1 --job-ms 50 --controller-pid "$ctl_pid" --jobs "$fleet_jobs" --token "$admin")
bench figure --name fleet_jobs_1000_nodes --unit jobs/s \
    --notes "$fleet_jobs jobs submitted and run to exit on $jobs_nodes simulated nodes" \
    "$(echo "scale=1; $fleet_jobs / $(extra "$line" jobs_run_s)" | bc)" >>"$figures"
bench figure --name controller_rss_fleet --unit MiB \
    --notes "VmRSS with $jobs_nodes simulated nodes after $seeded_jobs seeded finished jobs and $(extra "$line" exits) \
of $fleet_jobs jobs run to exit in $(extra "$line" jobs_run_s) s" "$(rss_mib "$ctl_pid")" >>"$figures"
stop_controller

mkdir -p bench-results
out="bench-results/bench-$(date +%F-%H%M%S).json"
bench report --input "$figures" --output "$out" --date "$(date +%F)" --mode "$mode"
echo "wrote $out"
