#!/usr/bin/env bash
# Starts or stops a local Corral cluster for trying it out: one controller and one agent on loopback, with the
# CLI configured for the admin. State lives in ~/.corral (override with CORRAL_DEV_HOME).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build --show-bin-path)"
home="${CORRAL_DEV_HOME:-$HOME/.corral}"
port="${CORRAL_DEV_PORT:-8700}"
data="$home/controller"
logs="$home/logs"
mkdir -p "$logs"

stop() {
    for name in agent controller; do
        if [ -f "$home/$name.pid" ] && kill -0 "$(cat "$home/$name.pid")" 2>/dev/null; then
            kill "$(cat "$home/$name.pid")" && echo "stopped corral-$name (pid $(cat "$home/$name.pid"))"
        fi
        rm -f "$home/$name.pid"
    done
}

# Jobs run as a Unix account: here, the one running this script (root only for the admin, if that is root).
me="$(id -un)"
accounts=(--default-unix-user "$me")
[ "$(id -u)" = 0 ] && accounts+=(--root-users admin)
# Without root the agent cannot make cgroups or switch accounts: it runs jobs as you, uncontained.
uncontained=()
[ "$(id -u)" = 0 ] || uncontained=(--allow-uncontained)

case "${1:-up}" in
down) stop ;;
up)
    stop
    "$bin/corral-controller" --data-dir "$data" --listen "127.0.0.1:$port" "${accounts[@]}" >>"$logs/controller.log" 2>&1 &
    echo $! >"$home/controller.pid"
    for _ in $(seq 100); do [ -f "$data/cluster.token" ] && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the controller did not start; see $logs/controller.log"; exit 1; }

    gpus=()
    if ! nvidia-smi -L >/dev/null 2>&1; then
        # No NVIDIA GPU here: declare two, as an operator does where detection is impossible. Jobs get
        # CUDA_VISIBLE_DEVICES as on a real node.
        gpus=(--declare-gpus 2 --gpu-name "declared (no nvidia-smi)")
    fi
    "$bin/corral-agent" configure --config "$home/agent.toml" --endpoint "http://127.0.0.1:$port" \
        --cluster-token-file "$data/cluster.token" --node-id "$(hostname -s 2>/dev/null || echo local)" \
        --state-dir "$home/agent" "${gpus[@]}" "${uncontained[@]}" >/dev/null
    "$bin/corral-agent" start --config "$home/agent.toml" >>"$logs/agent.log" 2>&1 &
    echo $! >"$home/agent.pid"
    "$bin/corral" configure --endpoint "http://127.0.0.1:$port" --token-file "$data/admin.token" >/dev/null

    prefix="${PREFIX:-$HOME/.local}"
    mkdir -p "$prefix/bin"
    for b in corral corral-agent corral-controller; do ln -sf "$bin/$b" "$prefix/bin/$b"; done
    for _ in $(seq 50); do "$bin/corral" nodes 2>/dev/null | grep -q READY && break; sleep 0.1; done
    cat <<MSG
Corral is up: controller on http://127.0.0.1:$port, one agent, the CLI configured as admin (jobs run as $me).
  logs:    $logs/{controller,agent}.log
  state:   $data (admin.token and cluster.token are there)
  binaries linked into $prefix/bin$(case ":$PATH:" in *":$prefix/bin:"*) ;; *) printf '%s' " (add it to PATH: export PATH=\"$prefix/bin:\$PATH\")" ;; esac)

Try:
  corral nodes
  corral submit -- echo hello
  corral ls --all
  corral show <id>
  just down
MSG
    ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
