#!/usr/bin/env bash
# Reload benchmark (issue 5): time from `reload` to every worker ACKed, for a
# config with 100 providers and 1,000 routes, and failed requests while 100
# reloads run under wrk load. Informational; never a test.
#   BUILD_DIR (default build), WORKERS (default 2), RELOADS (default 100)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
WORKERS=${WORKERS:-2}
RELOADS=${RELOADS:-100}
BIN=$BUILD_DIR/bin
for b in bitrouterd bitrouterctl bench_upstream; do
  [ -x "$BIN/$b" ] || { echo "reload_bench: $BIN/$b missing: build first" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "reload_bench: wrk missing (deploy/install-deps.sh)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/br-rb-XXXXXX)
HOME_DIR=$TMP/home
mkdir -p "$HOME_DIR"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"$BIN/bench_upstream" --port 0 > "$TMP/up.out" &
PIDS+=($!)
for _ in $(seq 100); do grep -q PORT "$TMP/up.out" 2>/dev/null && break; sleep 0.05; done
UP=$(awk '/PORT/{print $2}' "$TMP/up.out")

gen_config() {  # $1 = model id every route points at
  {
    echo "inherit_defaults: false"
    echo "providers:"
    for i in $(seq 1 100); do
      printf '  p%d:\n    api_protocol: openai\n    api_base: http://127.0.0.1:%s/v1\n    api_key: key-%d\n' "$i" "$UP" "$i"
    done
    echo "models:"
    for i in $(seq 1 1000); do
      printf '  r%d:\n    strategy: priority\n    endpoints:\n      - provider: p%d\n        model_id: %s\n      - provider: p%d\n        model_id: %s\n' \
        "$i" $(( (i % 100) + 1 )) "$1" $(( ((i + 1) % 100) + 1 )) "$1"
    done
  } > "$HOME_DIR/bitrouter.yaml"
}
gen_config model-a
"$BIN/bitrouterd" --home-dir "$HOME_DIR" --listen 127.0.0.1:0 --workers "$WORKERS" 2> "$TMP/bitrouterd.log" &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$HOME_DIR/run/listen.addr" ] && break; sleep 0.05; done
ADDR=$(cat "$HOME_DIR/run/listen.addr")
for _ in $(seq 100); do curl -sf "http://$ADDR/health" >/dev/null && break; sleep 0.05; done

cat > "$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"r7","messages":[{"role":"user","content":"hi"}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk -t1 -c4 -d60s -s "$TMP/post.lua" "http://$ADDR/v1/chat/completions" > "$TMP/wrk.out" &
WRK=$!
PIDS+=($WRK)
sleep 1
: > "$TMP/times"
for i in $(seq 1 "$RELOADS"); do
  if [ $((i % 2)) -eq 0 ]; then gen_config model-a; else gen_config model-b; fi
  "$BIN/bitrouterctl" --home-dir "$HOME_DIR" --json reload >> "$TMP/times"
done
kill -INT "$WRK" 2>/dev/null || true
wait "$WRK" 2>/dev/null || true

python3 - "$TMP/times" "$TMP/wrk.out" <<'PY'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
push = sorted(r["push_ms"] for r in rows)
load = sorted(r["load_ms"] for r in rows)
ok = sum(1 for r in rows if r["ok"])
def pct(v, p): return v[min(len(v) - 1, int(len(v) * p))]
wrk = open(sys.argv[2]).read()
reqs = re.search(r"(\d+) requests in", wrk)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
errs = re.search(r"Socket errors: (.*)", wrk)
print(f"reloads: {len(rows)} ({ok} ACKed by every worker); config: 100 providers, 1000 routes")
print(f"push -> all ACKed: p50 {pct(push, .5):.1f} ms, p99 {pct(push, .99):.1f} ms, max {push[-1]:.1f} ms (target <= 50 ms)")
print(f"load + validate:   p50 {pct(load, .5):.1f} ms, max {load[-1]:.1f} ms")
print(f"requests during the reloads: {reqs.group(1) if reqs else '?'}; non-2xx: {non2xx.group(1) if non2xx else 0}; socket errors: {errs.group(1) if errs else 'none'}")
PY
