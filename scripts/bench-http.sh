#!/usr/bin/env bash
# HTTP server throughput: requests per second and p99 latency of a small JSON GET with keep-alive at 64
# concurrent connections (wrk, 2 threads), Corral's HTTPKit server (the controller's GET /healthz) next to
# nginx serving a file of the same size, in the same run on the same machine.
#   scripts/bench-http.sh BIN_DIR [SECONDS] [RUNS]
# prints four lines "NAME UNIT v1 v2 ...": httpkit_rps, httpkit_p99_ms, nginx_rps, nginx_p99_ms (one value a run)
set -euo pipefail
bin="$1"; seconds="${2:-10}"; runs="${3:-3}"
for tool in nginx wrk; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "bench-http: installing $tool (Debian package)" >&2
        SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$tool" >/dev/null
    }
done
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"' EXIT

"$bin/corral-controller" --data-dir "$work/ctl" --listen 127.0.0.1:0 >"$work/ctl.log" 2>&1 &
for _ in $(seq 200); do [ -f "$work/ctl/endpoint" ] && break; sleep 0.05; done
corral_url="$(cat "$work/ctl/endpoint")/healthz"
body="$(curl -fsS "$corral_url")"

port=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$work/www"
printf '%s' "$body" > "$work/www/healthz"
cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/json;
    server {
        listen 127.0.0.1:$port;
        root $work/www;
    }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done

measure() {  # name url -> two lines: "<name>_rps req/s v..." and "<name>_p99_ms ms v..."
    local name="$1" url="$2" rps=() p99=()
    wrk -t2 -c64 -d2s "$url" >/dev/null 2>&1  # warm-up
    for _ in $(seq "$runs"); do
        out="$(wrk -t2 -c64 -d"${seconds}s" --latency "$url")"
        rps+=("$(echo "$out" | awk '/Requests\/sec/ { print $2 }')")
        p99+=("$(echo "$out" | awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }; print v }')")
    done
    echo "${name}_rps req/s ${rps[*]}"
    echo "${name}_p99_ms ms ${p99[*]}"
}
measure httpkit "$corral_url"
measure nginx "http://127.0.0.1:$port/healthz"
echo "body_bytes ${#body}" >&2
echo "nginx_version $(nginx -v 2>&1 | sed 's/.*nginx\///')" >&2
