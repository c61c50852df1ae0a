#!/usr/bin/env bash
# Scans the controller's TLS listener with sslyze (PyPI; installed when missing): certificates from
# `corral-controller tls init`, a controller on loopback, then a summary of accepted protocols and cipher suites.
# Fails when anything below TLS 1.2 or a non-AEAD / non-forward-secret TLS 1.2 suite is accepted.
#   scripts/sslyze-check.sh [BIN_DIR]
set -euo pipefail
bin="${1:-$(swift build --show-bin-path)}"
python3 -c "import sslyze" 2>/dev/null || python3 -m pip install -q sslyze
work="$(mktemp -d)"; trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
"$bin/corral-controller" tls init "$work/tls" --host localhost --ip 127.0.0.1 >/dev/null
"$bin/corral-controller" --data-dir "$work/ctl" --listen 127.0.0.1:0 \
    --tls-cert "$work/tls/server.pem" --tls-key "$work/tls/server-key.pem" >"$work/ctl.log" 2>&1 &
for _ in $(seq 100); do [ -s "$work/ctl/endpoint" ] && break; sleep 0.1; done
target="$(sed 's|https://||' "$work/ctl/endpoint")"
python3 -m sslyze --quiet --json_out "$work/scan.json" "$target" >/dev/null 2>&1 || true
python3 - "$work/scan.json" <<'PY'
import json, sys
scan = json.load(open(sys.argv[1]))["server_scan_results"][0]["scan_result"]
names = {"ssl_2_0_cipher_suites": "SSL 2.0", "ssl_3_0_cipher_suites": "SSL 3.0", "tls_1_0_cipher_suites": "TLS 1.0",
         "tls_1_1_cipher_suites": "TLS 1.1", "tls_1_2_cipher_suites": "TLS 1.2", "tls_1_3_cipher_suites": "TLS 1.3"}
bad = []
for key, name in names.items():
    suites = [s["cipher_suite"]["name"] for s in scan[key]["result"]["accepted_cipher_suites"]]
    print(f"{name}: {'refused' if not suites else ', '.join(suites)}")
    if suites and name in ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1"):
        bad.append(f"{name} accepted")
    if name == "TLS 1.2":
        bad += [f"weak TLS 1.2 suite {s}" for s in suites if "ECDHE" not in s or not ("GCM" in s or "CHACHA20" in s)]
for key in ("heartbleed", "openssl_ccs_injection", "tls_compression", "tls_fallback_scsv", "session_renegotiation"):
    if key in scan and scan[key].get("result"):
        r = scan[key]["result"]
        print(f"{key}: " + ", ".join(f"{k}={v}" for k, v in r.items() if isinstance(v, bool)))
print("verdict:", "FAIL: " + "; ".join(bad) if bad else "ok: nothing below TLS 1.2, only ECDHE with AEAD on TLS 1.2")
sys.exit(1 if bad else 0)
PY
