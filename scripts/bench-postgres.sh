# Sourced by scripts/bench.sh: a PostgreSQL server of the bench's own for the figures on PostgreSQL (issue 19),
# from Debian's postgresql package, in a directory of its own under /tmp (the account it runs as cannot enter
# $work) on a free port of 127.0.0.1, with its defaults (fsync and
# synchronous_commit on: a commit is durable when it returns, as an operator's server would have it), as an
# unprivileged account made for it when run as root. pg_start sets pg_url and pg_password_file; pg_stop removes
# the server, its files and its account.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
pg_account=""
pg_as() {  # COMMAND...: as the server's account
    if [ -n "$pg_account" ]; then runuser -u "$pg_account" -- "$@"; else "$@"; fi
}
pg_start() {
    [ -x "$pg_bin/postgres" ] || { note "no PostgreSQL server (apt-get install postgresql): its figures are skipped"; return 1; }
    local dir port
    pg_dir="$(mktemp -d /tmp/corral-bench-pg.XXXXXX)"; dir="$pg_dir"
    mkdir -p "$dir/socket"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    if [ "$(id -u)" = 0 ]; then
        pg_account="corralbench$$"
        useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_account"
        chown -R "$pg_account" "$dir"
    fi
    pg_password_file="$work/pg.password"
    head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$pg_password_file"
    chmod 600 "$pg_password_file"; cp "$pg_password_file" "$dir/pwfile"
    [ -n "$pg_account" ] && chown "$pg_account" "$dir/pwfile"
    pg_as "$pg_bin/initdb" -D "$dir/data" -U corral --pwfile="$dir/pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
    pg_as "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
        "-p $port -c listen_addresses=127.0.0.1 -k $dir/socket -c max_connections=100" start >/dev/null
    pg_as "$pg_bin/psql" -X -q -h "$dir/socket" -p "$port" -U corral -d postgres -c "CREATE DATABASE corral" >/dev/null
    pg_url="postgres://corral@127.0.0.1:$port/corral"
}
pg_stop() {  # safe to call twice, and under set -e
    if [ -n "${pg_dir:-}" ] && [ -d "$pg_dir/data" ]; then
        pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "$pg_account" ]; then userdel "$pg_account" 2>/dev/null || true; fi
    if [ -n "${pg_dir:-}" ]; then rm -rf "$pg_dir"; fi
    pg_account=""; pg_dir=""
}

# A standby on the submit phase's database (every job it submitted is QUEUED: no agents), then a takeover:
#   standby_copy_read  a read of the queues on a standby whose copy is old enough to be read again (a second,
#                      or four times its last reading), which reads the cluster (every job not ended, the newest
#                      finished ones, nodes) from one state of the database before it answers;
#                      the standby's own figure (corral_standby_copy_read_seconds) is in the notes;
#   takeover_postgres  from SIGTERM of the leader (which ends its lease at once) to the standby's /healthz "ok":
#                      it has taken the lease and loaded the cluster.
standby_phase() {
    local port dir="$work/standby-pg" queued times=() i
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    queued="$(curl -s -H "Authorization: Bearer $admin" "$endpoint/metrics" | awk '/^corral_jobs\{state="QUEUED"\}/ { print $2 }')"
    "$bin/corral-controller" --data-dir "$dir" --listen "127.0.0.1:$port" --default-unix-user "$(id -un)" \
        --database "$pg_url" --database-password-file "$pg_password_file" >"$dir.log" 2>&1 &
    local standby=$!; pids+=("$standby")
    for _ in $(seq 1200); do grep -q "standing by" "$dir.log" 2>/dev/null && break; sleep 0.05; done
    # Its first reading was when it started: wait that out as the others (five times a reading, and a second).
    local first wait_s
    first="$(curl -s -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/metrics" |
        awk '/^corral_standby_copy_read_seconds_sum/ { print $2 }')"
    wait_s="$(echo "scale=3; 1.2 + 5 * ${first:-1}" | bc)"
    for i in $(seq "$http_runs"); do
        # The copy is read again once it is a second old, or four times its last reading when that is longer.
        sleep "$wait_s"
        stamp start
        curl -sf -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/v1/queues" >/dev/null
        stamp end; times+=("$(ms_between "$start" "$end")")
        wait_s="$(echo "scale=3; 1.2 + 5 * ${times[-1]} / 1000" | bc)"
    done
    local own
    own="$(curl -s -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/metrics" |
        awk '/^corral_standby_copy_read_seconds_(sum|count)/ { v[$1] = $2 } END { if (v["corral_standby_copy_read_seconds_count"] > 0) printf "%.0f", 1000 * v["corral_standby_copy_read_seconds_sum"] / v["corral_standby_copy_read_seconds_count"] }')"
    bench figure --name standby_copy_read --unit ms --notes "GET /v1/queues on a standby whose copy is old enough to be read again, with ${queued:-?} QUEUED jobs: it reads the cluster from PostgreSQL first (its readings: ${own:-?} ms each on average)" \
        "${times[@]}" >>"$figures"
    stamp start
    stop_controller
    for _ in $(seq 1200); do
        curl -sf "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"ok"' && break
        sleep 0.02
    done
    stamp end
    bench figure --name takeover_postgres --unit ms --notes "SIGTERM of the leader to the standby's /healthz ok, with ${queued:-?} QUEUED jobs to load (one takeover)" \
        "$(ms_between "$start" "$end")" >>"$figures"
    kill "$standby" 2>/dev/null || true; wait "$standby" 2>/dev/null || true
}
