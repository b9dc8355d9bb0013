#!/usr/bin/env bash
# BitRouter proxy-hop benchmark.
#
# Starts the fake upstream (bench_upstream) and bitrouterd with one worker,
# then runs wrk with a ~1 KB chat request against the upstream directly and
# through the router, for {JSON, SSE} x {1, 16} connections, and prints the
# latency the router adds and its throughput relative to the direct figure.
# When nginx is installed, the same load also goes through a keep-alive nginx
# proxy_pass hop in the same run (the floor the router is compared with).
# Results also go to bench-results.json next to the bin/ directory. Nothing
# here asserts: the targets are printed for information (see
# tests/bench/README.md).
#
# Usage: tests/bench/run.sh [options]       (see --help)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
LUA_SCRIPT="$SCRIPT_DIR/post.lua"

BUILD_DIR=${BUILD_DIR:-build}
BIN_DIR=${BIN_DIR:-}
JSON_OUT=${JSON_OUT:-}
NGINX=${NGINX:-1}
NGINX_BIN=${NGINX_BIN:-nginx}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-"1 16"}
MODES=${MODES:-"json sse"}
ROUTER_CPU=${ROUTER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PIN=${PIN:-1}
KEEP=${KEEP:-0}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-20}

# Targets from issue 2 (informational only: benchmarks are never assertions).
TARGET_ADDED_P50_US=60
TARGET_ADDED_P99_US=150
TARGET_RATIO_PCT=90
TARGET_RSS_KB=$((15 * 1024))

usage() {
  cat <<EOF
Usage: $0 [options]

Options (each also settable through the environment variable in brackets):
  -b, --build-dir DIR   build tree holding bin/ [BUILD_DIR, default: build]
      --bin-dir DIR     directory with bitrouterd, bitrouter-worker and
                        bench_upstream, e.g. a saved set of binaries; overrides
                        the build dir [BIN_DIR, default: BUILD_DIR/bin]
      --json FILE       where the JSON results go [JSON_OUT, default:
                        bench-results.json next to the bin/ directory]
  -d, --duration D      wrk duration per measured run, e.g. 10s, 1m [DURATION, default: 10s]
  -w, --warmup D        wrk warm-up before each measured run [WARMUP, default: 2s]
  -c, --conns "1 16"    connection counts to measure [CONNS]
  -m, --modes "json sse" response modes to measure [MODES]: json, sse, and the
                        translated tjson / tsse (an Anthropic Messages client at
                        /v1/messages, translated to the Chat upstream and back)
      --router-cpu N    CPU for bitrouterd and its worker [ROUTER_CPU, default: 0]
      --load-cpu N      CPU for bench_upstream and wrk [LOAD_CPU, default: 1]
      --no-pin          do not pin processes to CPUs [PIN=0]
      --no-nginx        do not measure the nginx hop [NGINX=0]; it is skipped
                        with a warning when nginx is not installed [NGINX_BIN]
      --keep            keep the temporary home (logs) after the run [KEEP=1]
      --parse FILE      only parse a saved wrk output and print the figures
  -h, --help            this text

Relative build and bin dirs are looked up from the current directory, then the repo root.
EOF
}

PARSE_ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b|--build-dir) BUILD_DIR=$2; shift 2 ;;
    --bin-dir) BIN_DIR=$2; shift 2 ;;
    --json) JSON_OUT=$2; shift 2 ;;
    -d|--duration) DURATION=$2; shift 2 ;;
    -w|--warmup) WARMUP=$2; shift 2 ;;
    -c|--conns) CONNS=$2; shift 2 ;;
    -m|--modes) MODES=$2; shift 2 ;;
    --router-cpu) ROUTER_CPU=$2; shift 2 ;;
    --load-cpu) LOAD_CPU=$2; shift 2 ;;
    --no-pin) PIN=0; shift ;;
    --no-nginx) NGINX=0; shift ;;
    --keep) KEEP=1; shift ;;
    --parse) PARSE_ONLY=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { printf '[bench] %s\n' "$*" >&2; }
warn() { printf '[bench] WARNING: %s\n' "$*" >&2; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Parsing (pure functions; `--parse FILE` exercises them on a saved output).

# to_us VALUE: converts a wrk time such as 512.00us, 1.19ms, 2.00s, 1.50m to
# microseconds. Prints nothing and fails for a value it cannot read.
to_us() {
  awk -v v="$1" 'BEGIN {
    if (!match(v, /^[0-9]+(\.[0-9]+)?/)) exit 1
    n = substr(v, 1, RLENGTH) + 0; u = substr(v, RLENGTH + 1)
    if (u == "us") f = 1; else if (u == "ms") f = 1e3; else if (u == "s") f = 1e6
    else if (u == "m") f = 6e7; else if (u == "h") f = 3.6e9; else exit 1
    printf "%.2f\n", n * f
  }'
}

# parse_wrk FILE: prints "p50_us p99_us rps non2xx socket_errors" for one wrk
# output. Latency percentiles and Requests/sec come from wrk's text report
# (the "50%" / "99%" lines of the --latency distribution); when post.lua's
# exact "bench-summary" line is present its microsecond values win.
parse_wrk() {
  local file=$1 line p50="" p99="" rps="" non2xx=0 sockerr=0 v
  while IFS= read -r line; do
    case "$line" in
      *" 50% "*) v=${line##* }; p50=$(to_us "$v") || p50="" ;;
      *" 99% "*) v=${line##* }; p99=$(to_us "$v") || p99="" ;;
      Requests/sec:*) rps=$(awk '{print $2}' <<<"$line") ;;
      *"Non-2xx or 3xx responses:"*) non2xx=${line##* } ;;
      *"Socket errors:"*)
        sockerr=$(awk '{ s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i + 0; print s }' \
          <<<"${line#*:}") ;;
      bench-summary\ *)
        v=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); a[kv[1]] = kv[2] }
                   printf "%.2f %.2f %s %d %d\n", a["p50_us"], a["p99_us"], a["rps"], a["non2xx"],
                     a["connect"] + a["read"] + a["write"] + a["timeout"] }' <<<"$line")
        read -r p50 p99 rps non2xx sockerr <<<"$v"
        break ;;
    esac
  done <"$file"
  [[ -n $p50 && -n $p99 && -n $rps ]] || return 1
  printf '%s %s %s %s %s\n' "$p50" "$p99" "$rps" "$non2xx" "$sockerr"
}

if [[ -n $PARSE_ONLY ]]; then
  read -r p50 p99 rps non2xx sockerr < <(parse_wrk "$PARSE_ONLY") \
    || die "could not parse $PARSE_ONLY"
  printf 'p50_us=%s p99_us=%s rps=%s non2xx=%s socket_errors=%s\n' \
    "$p50" "$p99" "$rps" "$non2xx" "$sockerr"
  exit 0
fi

# ---------------------------------------------------------------------------
# Preconditions.

if [[ -n $BIN_DIR ]]; then
  if [[ $BIN_DIR != /* && ! -d $BIN_DIR && -d $REPO_ROOT/$BIN_DIR ]]; then
    BIN_DIR=$REPO_ROOT/$BIN_DIR
  fi
  [[ -d $BIN_DIR ]] || die "bin dir '$BIN_DIR' not found"
  BIN=$(cd "$BIN_DIR" && pwd)
else
  if [[ $BUILD_DIR != /* && ! -d $BUILD_DIR && -d $REPO_ROOT/$BUILD_DIR ]]; then
    BUILD_DIR=$REPO_ROOT/$BUILD_DIR
  fi
  [[ -d $BUILD_DIR ]] || die "build dir '$BUILD_DIR' not found (build first: cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build)"
  BIN=$(cd "$BUILD_DIR" && pwd)/bin
fi
for b in bitrouterd bitrouter-worker bench_upstream; do
  [[ -x $BIN/$b ]] || die "$BIN/$b is missing: build the project first"
done
# The JSON results go next to bin/ (BUILD_DIR/bench-results.json by default).
JSON=${JSON_OUT:-$(dirname "$BIN")/bench-results.json}
for tool in wrk curl pgrep awk; do
  command -v "$tool" >/dev/null || die "'$tool' not found (./deploy/install-deps.sh installs wrk and curl)"
done
# nginx is optional: the floor. It only proxies the untranslated modes.
NGINX_MODES=""
for m in $MODES; do if [[ $m == json || $m == sse ]]; then NGINX_MODES+=" $m"; fi; done
if [[ $NGINX == 1 ]]; then
  if [[ -z $NGINX_MODES ]]; then
    log "nginx: no json/sse mode to measure, skipping it"; NGINX=0
  elif p=$(command -v "$NGINX_BIN" 2>/dev/null); then
    NGINX_BIN=$p
  elif [[ $NGINX_BIN == nginx && -x /usr/sbin/nginx ]]; then   # /usr/sbin is not on every PATH
    NGINX_BIN=/usr/sbin/nginx
  else
    warn "nginx not found: skipping the nginx floor (./deploy/install-deps.sh installs nginx-light; --no-nginx silences this)"
    NGINX=0
  fi
fi
[[ $NGINX == 1 ]] || { NGINX=0; NGINX_MODES=""; }

# duration_s D: seconds in a wrk duration (N, Ns, Nm, Nh).
duration_s() {
  case "$1" in
    *[!0-9smh]*|"") return 1 ;;
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *h) echo $((${1%h} * 3600)) ;;
    *) echo "$1" ;;
  esac
}
duration_s "$DURATION" >/dev/null || die "bad duration '$DURATION' (use e.g. 10s, 1m)"
duration_s "$WARMUP" >/dev/null || die "bad warm-up '$WARMUP'"
for c in $CONNS; do [[ $c =~ ^[1-9][0-9]*$ ]] || die "bad connection count '$c'"; done
for m in $MODES; do
  [[ $m == json || $m == sse || $m == tjson || $m == tsse ]] \
    || die "bad mode '$m' (json, sse, tjson or tsse)"
done

NCPU=$(nproc 2>/dev/null || echo 1)
if [[ $PIN == 1 ]]; then
  if ! command -v taskset >/dev/null; then
    warn "taskset not found: running without CPU pinning"; PIN=0
  elif ((NCPU < 2)); then
    warn "only $NCPU CPU available: running without CPU pinning (figures will be noisy)"; PIN=0
  elif [[ $ROUTER_CPU == "$LOAD_CPU" ]]; then
    warn "router and load CPUs are both $ROUTER_CPU"
  fi
fi
# Prefix that pins a command to the load-generator CPU (taskset execs it: same pid).
LOAD_PREFIX=()
[[ $PIN == 1 ]] && LOAD_PREFIX=(taskset -c "$LOAD_CPU")
# The same for the router CPU (nginx runs there, while the router is idle).
ROUTER_PREFIX=()
[[ $PIN == 1 ]] && ROUTER_PREFIX=(taskset -c "$ROUTER_CPU")

# ---------------------------------------------------------------------------
# Process bookkeeping and cleanup (runs on any exit, including Ctrl-C).

WORK=$(mktemp -d /tmp/br-bench-XXXXXX)   # short: the control socket lives here
HOME_DIR=$WORK/home
mkdir -p "$HOME_DIR"
UP_PID=""; BRD_PID=""; WORKER_PID=""; CHILD_PID=""
NGINX_DIR=$WORK/nginx
NGINX_PID=""; NGINX_WORKERS=""; NGINX_URL=""; NGINX_VERSION=""

stop_pid() {  # stop_pid PID SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL.
  local pid=$1 secs=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  warn "pid $pid did not exit within ${secs}s of SIGTERM: sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# The trap can fire inside a redirected command (a wrk run): report on the
# script's own stdout/stderr, saved here.
exec {ORIG_OUT}>&1 {ORIG_ERR}>&2

cleanup() {
  local rc=$? brd_rc
  trap - EXIT INT TERM
  set +e
  exec 1>&"$ORIG_OUT" 2>&"$ORIG_ERR"
  [[ -n $CHILD_PID ]] && kill -TERM "$CHILD_PID" 2>/dev/null
  if [[ -n $BRD_PID ]] && kill -0 "$BRD_PID" 2>/dev/null; then
    stop_pid "$BRD_PID" 15
    wait "$BRD_PID" 2>/dev/null; brd_rc=$?
    ((brd_rc == 0)) || warn "bitrouterd exited with status $brd_rc after SIGTERM (expected 0)"
  fi
  # A worker must not outlive bitrouterd; if one does, say so and stop it.
  if [[ -n $WORKER_PID ]] && kill -0 "$WORKER_PID" 2>/dev/null; then
    sleep 1
    if kill -0 "$WORKER_PID" 2>/dev/null; then
      warn "worker $WORKER_PID outlived bitrouterd: stopping it"
      stop_pid "$WORKER_PID" 5
    fi
  fi
  # nginx: SIGTERM to the master (fast shutdown; it stops its worker). A
  # worker left behind (master killed) is stopped too.
  if [[ -n $NGINX_PID ]]; then
    stop_pid "$NGINX_PID" 5
    wait "$NGINX_PID" 2>/dev/null
    for p in $NGINX_WORKERS; do
      if kill -0 "$p" 2>/dev/null; then
        warn "nginx worker $p outlived its master: stopping it"
        stop_pid "$p" 5
      fi
    done
  fi
  stop_pid "$UP_PID" 5
  wait 2>/dev/null
  if ((rc != 0 && rc != 130 && rc != 143)) && [[ -f $HOME_DIR/bitrouterd.log ]]; then
    log "last lines of bitrouterd's log:"
    tail -n 30 "$HOME_DIR/bitrouterd.log" >&2
  fi
  if [[ $KEEP == 1 ]]; then
    log "kept $WORK (bitrouterd log: $HOME_DIR/bitrouterd.log)"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_child CMD...: runs CMD in the background and waits for it, so a signal
# reaches our trap at once instead of after the command ends.
run_child() {
  local rc=0
  "$@" &
  CHILD_PID=$!
  wait "$CHILD_PID" || rc=$?
  CHILD_PID=""
  return "$rc"
}

# wait_until SECONDS WHAT CMD...: polls CMD every 50 ms until it succeeds.
wait_until() {
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what"
    sleep 0.05
  done
}

alive() { kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------
# Request bodies (~1 KB, compact JSON: bench_upstream streams when the body
# contains the exact bytes "stream":true).

write_body() {  # write_body FILE MODEL STREAM
  cat >"$1" <<EOF
{"model":"$2","messages":[{"role":"system","content":"You are a senior software engineer helping a teammate review a pull request. Answer concisely, name the files you refer to, and prefer concrete suggestions over general advice."},{"role":"user","content":"Here is the diff summary: the connection pool now keeps idle upstream sockets for 60 seconds, evicts the oldest one when the per-host limit of 32 is reached, and retries a request once when a pooled socket turns out to have been closed by the peer. Is there a risk of sending a non-idempotent request twice?"},{"role":"assistant","content":"Yes. If the peer closed the socket after reading the request but before answering, a blind retry can duplicate a POST. Retry only when nothing was written yet, or when the failure happened before the first byte of the request reached the kernel."},{"role":"user","content":"Good point. Can you suggest a minimal change to the retry condition and a unit test that would catch a regression?"}],"temperature":0.2,"max_tokens":512,"stream":$3}
EOF
}
# The same conversation as an Anthropic Messages request (translated modes).
write_messages_body() {  # write_messages_body FILE MODEL STREAM
  cat >"$1" <<EOF
{"model":"$2","system":"You are a senior software engineer helping a teammate review a pull request. Answer concisely, name the files you refer to, and prefer concrete suggestions over general advice.","messages":[{"role":"user","content":"Here is the diff summary: the connection pool now keeps idle upstream sockets for 60 seconds, evicts the oldest one when the per-host limit of 32 is reached, and retries a request once when a pooled socket turns out to have been closed by the peer. Is there a risk of sending a non-idempotent request twice?"},{"role":"assistant","content":"Yes. If the peer closed the socket after reading the request but before answering, a blind retry can duplicate a POST. Retry only when nothing was written yet, or when the failure happened before the first byte of the request reached the kernel."},{"role":"user","content":"Good point. Can you suggest a minimal change to the retry condition and a unit test that would catch a regression?"}],"temperature":0.2,"max_tokens":512,"stream":$3}
EOF
}
for m in json sse; do
  stream=false; [[ $m == sse ]] && stream=true
  write_body "$WORK/body-$m-direct.json" "gpt-4o-mini" "$stream"
  write_body "$WORK/body-$m-router.json" "openai:gpt-4o-mini" "$stream"
  write_body "$WORK/body-t$m-direct.json" "gpt-4o-mini" "$stream"
  write_messages_body "$WORK/body-t$m-router.json" "openai:gpt-4o-mini" "$stream"
done
BODY_BYTES=$(wc -c <"$WORK/body-json-router.json")

# ---------------------------------------------------------------------------
# Start the fake upstream and the router.

log "starting bench_upstream"
: >"$WORK/upstream.out"
"${LOAD_PREFIX[@]}" "$BIN/bench_upstream" --port 0 >"$WORK/upstream.out" 2>"$WORK/upstream.err" &
UP_PID=$!
upstream_port() { awk '$1 == "PORT" && $2 ~ /^[0-9]+$/ { print $2; exit }' "$WORK/upstream.out"; }
upstream_ready() {
  alive "$UP_PID" || { cat "$WORK/upstream.err" >&2; die "bench_upstream exited"; }
  [[ -n $(upstream_port) ]]
}
wait_until "$STARTUP_TIMEOUT" "bench_upstream to print PORT" upstream_ready
UP_PORT=$(upstream_port)
DIRECT_URL="http://127.0.0.1:$UP_PORT/v1/chat/completions"

# ROUTER_CONFIG: YAML written to the router's bitrouter.yaml, to measure a
# setting's cost (e.g. ROUTER_CONFIG=$'server:\n  access_log: false').
if [[ -n ${ROUTER_CONFIG:-} ]]; then printf '%s\n' "$ROUTER_CONFIG" >"$HOME_DIR/bitrouter.yaml"; fi
log "starting bitrouterd (1 worker, home $HOME_DIR)"
# Only the fake upstream's provider is configured: keys from the caller's
# environment are dropped so no request can leave the machine.
(
  unset ANTHROPIC_API_KEY ANTHROPIC_BASE_URL GOOGLE_API_KEY GOOGLE_BASE_URL GEMINI_API_KEY \
    GEMINI_BASE_URL OPENROUTER_API_KEY OPENROUTER_BASE_URL DEEPSEEK_API_KEY DEEPSEEK_BASE_URL \
    BITROUTER_HOME
  export OPENAI_API_KEY=bench OPENAI_BASE_URL="http://127.0.0.1:$UP_PORT/v1"
  export GRPC_VERBOSITY=${GRPC_VERBOSITY:-ERROR}
  # setsid: own session, so a Ctrl-C on the terminal reaches only this script,
  # whose trap stops bitrouterd with one SIGTERM (no fork: the pid stays $!).
  exec setsid "$BIN/bitrouterd" --home-dir "$HOME_DIR" --listen 127.0.0.1:0 --workers 1
) 2>"$HOME_DIR/bitrouterd.log" &
BRD_PID=$!

listen_ready() {
  alive "$BRD_PID" || die "bitrouterd exited during start-up"
  [[ -s $HOME_DIR/run/listen.addr ]]
}
wait_until "$STARTUP_TIMEOUT" "$HOME_DIR/run/listen.addr" listen_ready
[[ $(readlink "/proc/$BRD_PID/exe" 2>/dev/null) == */bitrouterd ]] \
  || warn "pid $BRD_PID is not the bitrouterd executable: cleanup may miss it"
# listen.addr is re-read on every poll, in case the first read caught it half-written.
health_ok() {
  alive "$BRD_PID" || die "bitrouterd exited during start-up"
  ROUTER_ADDR=$(tr -d ' \t\r\n' <"$HOME_DIR/run/listen.addr")
  [[ $ROUTER_ADDR == *:[0-9]* ]] || return 1
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$ROUTER_ADDR/health" || true) == 200 ]]
}
wait_until "$STARTUP_TIMEOUT" "GET /health on the address in run/listen.addr to answer 200" health_ok
ROUTER_BASE="http://$ROUTER_ADDR"
ROUTER_URL="$ROUTER_BASE/v1/chat/completions"
router_url() { if [[ $1 == t* ]]; then echo "$ROUTER_BASE/v1/messages"; else echo "$ROUTER_URL"; fi; }

# The worker: a child of bitrouterd running bitrouter-worker (-f: the process
# name is cut to 15 characters, the command line is not).
find_worker() {
  local pids
  pids=$(pgrep -P "$BRD_PID" -f bitrouter-worker || true)
  [[ -n $pids ]] || return 1
  (($(wc -w <<<"$pids") == 1)) || die "expected one worker, found: $pids"
  WORKER_PID=$pids
}
wait_until "$STARTUP_TIMEOUT" "the bitrouter-worker child of bitrouterd" find_worker
log "bitrouterd pid $BRD_PID, worker pid $WORKER_PID, listening on $ROUTER_ADDR; upstream on :$UP_PORT"

# BENCH_KEY: the router is measured with a virtual key on every request, the
# key created with these bitrouterctl arguments (e.g. BENCH_KEY="--rpm
# 100000000 --tpm 1000000000 --budget-usd 1000000"; ROUTER_CONFIG can add
# server.skip_auth: false so a key is required).
ROUTER_AUTH=""
if [[ -n ${BENCH_KEY:-} ]]; then
  # shellcheck disable=SC2086 # word splitting of the argument list is wanted
  key_json=$("$BIN/bitrouterctl" --home-dir "$HOME_DIR" key create --name bench --json $BENCH_KEY) \
    || die "bitrouterctl key create failed: $key_json"
  ROUTER_AUTH=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' <<<"$key_json")
  [[ $ROUTER_AUTH == brvk_* ]] || die "no key secret in: $key_json"
  log "router runs send a virtual key (bitrouterctl key create $BENCH_KEY)"
fi

if [[ $PIN == 1 ]]; then
  # -a: every thread of the process (event loop and gRPC threads alike).
  taskset -a -pc "$ROUTER_CPU" "$BRD_PID" >/dev/null
  taskset -a -pc "$ROUTER_CPU" "$WORKER_PID" >/dev/null
  log "pinned bitrouterd + worker to CPU $ROUTER_CPU; bench_upstream + wrk run on CPU $LOAD_CPU"
fi

# ---------------------------------------------------------------------------
# nginx, the floor: a keep-alive proxy_pass hop to the same upstream, one
# worker process, pinned to the router's CPU (it is idle while the router is
# measured, and the other way round). Everything lives under $WORK/nginx.

write_nginx_conf() {  # write_nginx_conf PORT TOKEN
  local d=$NGINX_DIR
  cat >"$d/nginx.conf" <<EOF
# Generated by tests/bench/run.sh: the benchmark's nginx floor.
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
  worker_connections 1024;
}
http {
  access_log off;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  # nginx closes a keep-alive connection after 1000 requests by default; the
  # router does not, so neither side of this hop does either.
  keepalive_requests 1000000;
  upstream bench_upstream {
    server 127.0.0.1:$UP_PORT;
    keepalive 32;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$1;
    location = /bench-nginx-ready {
      return 200 "$2";
    }
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
}

# start_nginx: starts nginx on a free port from 20000-29999 (below the usual
# ephemeral range); a port that turns out to be taken is retried with another
# one, 10 attempts in all. Sets NGINX_PID, NGINX_WORKERS and NGINX_URL.
start_nginx() {
  local attempt port token deadline got
  mkdir -p "$NGINX_DIR/tmp"
  NGINX_VERSION=$("$NGINX_BIN" -v 2>&1 | sed -n 's|^nginx version: nginx/||p')
  for ((attempt = 1; attempt <= 10; attempt++)); do
    port=$((20000 + RANDOM % 10000))
    # Something already answers there: pick another port.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    token="bench-nginx-$$-$RANDOM$RANDOM"
    write_nginx_conf "$port" "$token"
    : >"$NGINX_DIR/error.log"
    # setsid: own session, like bitrouterd (setsid and taskset exec: the pid is
    # nginx's master). -e: the error log before the config is read.
    setsid "${ROUTER_PREFIX[@]}" "$NGINX_BIN" -p "$NGINX_DIR" -e "$NGINX_DIR/error.log" \
      -c "$NGINX_DIR/nginx.conf" -g 'daemon off;' >"$NGINX_DIR/nginx.out" 2>&1 &
    NGINX_PID=$!
    deadline=$((SECONDS + STARTUP_TIMEOUT))
    while :; do
      if ! alive "$NGINX_PID"; then
        wait "$NGINX_PID" 2>/dev/null || true
        NGINX_PID=""
        if grep -qs 'Address already in use' "$NGINX_DIR/error.log" "$NGINX_DIR/nginx.out"; then
          log "nginx: port $port is taken, trying another one"
          continue 2
        fi
        cat "$NGINX_DIR/nginx.out" "$NGINX_DIR/error.log" >&2
        die "nginx exited during start-up (config: $NGINX_DIR/nginx.conf)"
      fi
      # The token tells our nginx from anything else on the port.
      got=$(curl -s --max-time 1 "http://127.0.0.1:$port/bench-nginx-ready" || true)
      [[ $got == "$token" ]] && break 2
      ((SECONDS < deadline)) || die "timed out after ${STARTUP_TIMEOUT}s waiting for nginx on port $port"
      sleep 0.05
    done
  done
  [[ -n $NGINX_PID ]] || die "nginx: no free port found in 10 attempts"
  [[ $(readlink "/proc/$NGINX_PID/exe" 2>/dev/null) == */nginx ]] \
    || warn "pid $NGINX_PID is not the nginx executable: cleanup may miss it"
  NGINX_WORKERS=$(pgrep -P "$NGINX_PID" || true)
  [[ -n $NGINX_WORKERS ]] || die "nginx (pid $NGINX_PID) has no worker process"
  NGINX_URL="http://127.0.0.1:$port/v1/chat/completions"
  log "nginx $NGINX_VERSION pid $NGINX_PID (worker ${NGINX_WORKERS//$'\n'/ }) on 127.0.0.1:$port$( ((PIN == 1)) && echo ", pinned to CPU $ROUTER_CPU")"
}
if [[ $NGINX == 1 ]]; then
  log "starting nginx (the floor:$NGINX_MODES)"
  start_nginx
fi

# ---------------------------------------------------------------------------
# Sanity: both paths answer 200 with the expected shape before any load.

check_path() {  # check_path NAME URL BODY_FILE MODE [AUTH]
  local name=$1 url=$2 body=$3 mode=$4 auth=${5:-} code out=$WORK/check.out
  local -a hdr=(-H 'Content-Type: application/json')
  [[ -n $auth ]] && hdr+=(-H "Authorization: Bearer $auth")
  code=$(curl -sS -o "$out" -w '%{http_code}' --max-time 5 "${hdr[@]}" --data-binary @"$body" "$url") \
    || die "$name $mode request failed (curl)"
  if [[ $code != 200 ]]; then
    head -c 600 "$out" >&2; echo >&2
    die "$name $mode request answered HTTP $code"
  fi
  if [[ $mode == *sse ]]; then
    grep -q '^data:' "$out" || die "$name sse answer has no 'data:' line"
  elif [[ $name == router && $mode == tjson ]]; then
    grep -q '"content"' "$out" || die "$name json answer has no \"content\""
  else
    grep -q '"choices"' "$out" || die "$name json answer has no \"choices\""
  fi
}
for m in $MODES; do
  check_path direct "$DIRECT_URL" "$WORK/body-$m-direct.json" "$m" bench
  check_path router "$(router_url "$m")" "$WORK/body-$m-router.json" "$m" "$ROUTER_AUTH"
done
for m in $NGINX_MODES; do
  check_path nginx "$NGINX_URL" "$WORK/body-$m-direct.json" "$m" bench
done

read_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
IDLE_RSS_KB=$(read_rss_kb "$WORKER_PID")
log "idle worker RSS: ${IDLE_RSS_KB} kB"

# ---------------------------------------------------------------------------
# Load.

# wrk_run OUT DUR CONNS URL BODY [AUTH]: one wrk run bounded in time.
wrk_run() {
  local out=$1 dur=$2 conns=$3 url=$4 body=$5 auth=${6:-} limit rc=0
  limit=$(($(duration_s "$dur") + 30))
  BENCH_BODY_FILE=$body BENCH_AUTH=$auth \
    run_child timeout -k 5 "$limit" "${LOAD_PREFIX[@]}" wrk -t1 -c"$conns" -d"$dur" --latency -s "$LUA_SCRIPT" "$url" \
      >"$out" 2>"$out.err" || rc=$?
  # No summary line means post.lua did not load (wrk then still runs, as GETs).
  if ((rc != 0)) || ! grep -q '^bench-summary ' "$out"; then
    cat "$out.err" "$out" >&2
    die "wrk failed (status $rc) against $url"
  fi
  alive "$WORKER_PID" || die "the worker (pid $WORKER_PID) died during the run"
}

fmt() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }

# diff1 A B: A - B (added latency). pct1 A B: 100 * A / B (throughput share).
diff1() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
pct1() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", 100 * a / b; else print "0.0" }'; }

# One entry per (mode, conns): "mode conns d_p50 d_p99 d_rps r_p50 r_p99 r_rps
# add50 add99 ratio d_err r_err n_p50 n_p99 n_rps n_add50 n_add99 n_ratio n_err",
# the n_* (nginx) fields "-" when nginx was not measured for that row.
RESULTS=()
for m in $MODES; do
  sides="direct router"
  [[ " $NGINX_MODES " == *" $m "* ]] && sides+=" nginx"
  for c in $CONNS; do
    np50=- np99=- nrps=- nadd50=- nadd99=- nratio=- nerr=-
    for side in $sides; do
      case $side in
        direct) url=$DIRECT_URL auth=bench body=$WORK/body-$m-direct.json ;;
        router) url=$(router_url "$m") auth=$ROUTER_AUTH body=$WORK/body-$m-router.json ;;
        # nginx forwards the client's request as is: the direct body and key.
        nginx) url=$NGINX_URL auth=bench body=$WORK/body-$m-direct.json ;;
      esac
      log "$m, $c conn: $side (warm-up $WARMUP, then $DURATION)"
      wrk_run "$WORK/warmup.txt" "$WARMUP" "$c" "$url" "$body" "$auth"
      wrk_run "$WORK/wrk-$m-$c-$side.txt" "$DURATION" "$c" "$url" "$body" "$auth"
      [[ $side != nginx ]] || alive "$NGINX_PID" || die "nginx (pid $NGINX_PID) died during the run"
      read -r p50 p99 rps non2xx sockerr < <(parse_wrk "$WORK/wrk-$m-$c-$side.txt") \
        || { cat "$WORK/wrk-$m-$c-$side.txt" >&2; die "could not parse wrk output"; }
      ((non2xx == 0)) || warn "$side $m $c conn: $non2xx non-2xx responses: figures are not valid"
      ((sockerr == 0)) || warn "$side $m $c conn: $sockerr socket errors"
      case $side in
        direct) dp50=$p50 dp99=$p99 drps=$rps derr=$((non2xx + sockerr)) ;;
        router) rp50=$p50 rp99=$p99 rrps=$rps rerr=$((non2xx + sockerr)) ;;
        nginx) np50=$p50 np99=$p99 nrps=$rps nerr=$((non2xx + sockerr)) ;;
      esac
    done
    add50=$(diff1 "$rp50" "$dp50") add99=$(diff1 "$rp99" "$dp99") ratio=$(pct1 "$rrps" "$drps")
    if [[ $np50 != - ]]; then
      nadd50=$(diff1 "$np50" "$dp50") nadd99=$(diff1 "$np99" "$dp99") nratio=$(pct1 "$nrps" "$drps")
    fi
    RESULTS+=("$m $c $dp50 $dp99 $drps $rp50 $rp99 $rrps $add50 $add99 $ratio $derr $rerr $np50 $np99 $nrps $nadd50 $nadd99 $nratio $nerr")
  done
done
RSS_AFTER_KB=$(read_rss_kb "$WORKER_PID")

# ---------------------------------------------------------------------------
# Report.

fmtn() { if [[ $1 == - ]]; then echo -; else fmt "$1"; fi; }   # fmt, "-" passes through

pinning="not pinned"
# (NGINX=0: the substitution must not fail, or set -e ends the script here.)
((PIN == 1)) && pinning="router$( ((NGINX == 1)) && echo " and nginx" || true) on CPU $ROUTER_CPU, upstream + wrk on CPU $LOAD_CPU"
echo
echo "BitRouter benchmark: 1 worker, ${BODY_BYTES}-byte chat request, $DURATION per run ($pinning)"
row_fmt='%-5s %5s | %9s %9s %10s | %9s %9s %10s | %9s %9s | %7s'
ngx_fmt=' | %9s %9s %10s | %9s %9s | %7s'
rule="------------+--------------------------------+--------------------------------+---------------------+--------"
ngx_rule="+--------------------------------+---------------------+--------"
if [[ $NGINX == 1 ]]; then
  # shellcheck disable=SC2059  # the formats are ours
  printf "$row_fmt$ngx_fmt\n" mode conns "dir p50" "dir p99" "dir rps" "rtr p50" "rtr p99" "rtr rps" \
    "add p50" "add p99" "thr %" "ngx p50" "ngx p99" "ngx rps" "add p50" "add p99" "thr %"
  printf '%s\n' "$rule$ngx_rule"
else
  # shellcheck disable=SC2059
  printf "$row_fmt\n" mode conns "dir p50" "dir p99" "dir rps" "rtr p50" "rtr p99" "rtr rps" \
    "add p50" "add p99" "thr %"
  printf '%s\n' "$rule"
fi
for r in "${RESULTS[@]}"; do
  read -r m c dp50 dp99 drps rp50 rp99 rrps add50 add99 ratio derr rerr \
    np50 np99 nrps nadd50 nadd99 nratio nerr <<<"$r"
  flag=""
  if ((derr + rerr != 0)) || [[ $nerr != - && $nerr != 0 ]]; then
    flag="  (errors: direct $derr, router $rerr$([[ $nerr == - ]] || echo ", nginx $nerr"))"
  fi
  # shellcheck disable=SC2059
  printf "$row_fmt" "$m" "$c" "$(fmt "$dp50")" "$(fmt "$dp99")" "$(fmt "$drps")" "$(fmt "$rp50")" \
    "$(fmt "$rp99")" "$(fmt "$rrps")" "$add50" "$add99" "$ratio"
  if [[ $NGINX == 1 ]]; then
    # shellcheck disable=SC2059
    printf "$ngx_fmt" "$(fmtn "$np50")" "$(fmtn "$np99")" "$(fmtn "$nrps")" "$nadd50" "$nadd99" "$nratio"
  fi
  printf '%s\n' "$flag"
done
if [[ $NGINX == 1 ]]; then
  echo "(latencies in microseconds; 'add' = router - direct, then nginx - direct; 'thr %' = router" \
    "rps / direct rps, then nginx rps / direct rps; nginx $NGINX_VERSION: keep-alive proxy_pass," \
    "1 worker process, the floor; '-': nginx cannot translate)"
else
  echo "(latencies in microseconds; 'add' = router - direct; 'thr %' = router rps / direct rps; nginx not measured)"
fi
printf 'idle worker RSS: %s kB (%.1f MiB); after load: %s kB\n' \
  "$IDLE_RSS_KB" "$(awk -v k="$IDLE_RSS_KB" 'BEGIN { print k / 1024 }')" "$RSS_AFTER_KB"

# Informational comparison with issue 2's targets.
verdict() { if awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { exit !(op == "<=" ? a <= b : a >= b) }'; then echo ok; else echo MISS; fi; }
echo "targets (issue 2, informational):"
for r in "${RESULTS[@]}"; do
  read -r m c _ _ _ _ _ _ add50 add99 ratio _ _ _ _ _ nadd50 nadd99 nratio _ <<<"$r"
  if ((c == 1)); then
    ngx=""; [[ $nadd50 == - ]] || ngx=" (nginx: $nadd50 / $nadd99 us)"
    echo "  $m 1 conn: added p50 $add50 us <= $TARGET_ADDED_P50_US: $(verdict "$add50" "<=" "$TARGET_ADDED_P50_US");" \
      "added p99 $add99 us <= $TARGET_ADDED_P99_US: $(verdict "$add99" "<=" "$TARGET_ADDED_P99_US")$ngx"
  elif ((c == 16)); then
    ngx=""; [[ $nratio == - ]] || ngx=" (nginx: $nratio %)"
    echo "  $m 16 conn: throughput $ratio % >= $TARGET_RATIO_PCT: $(verdict "$ratio" ">=" "$TARGET_RATIO_PCT")$ngx"
  fi
done
echo "  idle worker RSS $IDLE_RSS_KB kB <= $TARGET_RSS_KB: $(verdict "$IDLE_RSS_KB" "<=" "$TARGET_RSS_KB")"

# JSON copy of the table.
jstr() { if [[ -n $1 ]]; then printf '"%s"' "$1"; else printf 'null'; fi; }
{
  printf '{\n'
  printf '  "timestamp": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '  "host": "%s",\n' "$(uname -n)"
  printf '  "cpus": %d,\n' "$NCPU"
  printf '  "pinned": %s,\n' "$( ((PIN == 1)) && echo true || echo false)"
  printf '  "router_cpu": %s,\n  "load_cpu": %s,\n' "$ROUTER_CPU" "$LOAD_CPU"
  printf '  "duration": "%s",\n  "warmup": "%s",\n' "$DURATION" "$WARMUP"
  printf '  "bin_dir": "%s",\n' "$BIN"
  printf '  "nginx_version": %s,\n' "$(jstr "$NGINX_VERSION")"
  printf '  "body_bytes": %d,\n' "$BODY_BYTES"
  printf '  "worker_idle_rss_kb": %d,\n' "$IDLE_RSS_KB"
  printf '  "worker_rss_after_load_kb": %d,\n' "$RSS_AFTER_KB"
  printf '  "targets": {"added_p50_us_1conn": %d, "added_p99_us_1conn": %d, "throughput_ratio_pct_16conn": %d, "idle_worker_rss_kb": %d},\n' \
    "$TARGET_ADDED_P50_US" "$TARGET_ADDED_P99_US" "$TARGET_RATIO_PCT" "$TARGET_RSS_KB"
  printf '  "results": [\n'
  n=${#RESULTS[@]} i=0
  for r in "${RESULTS[@]}"; do
    read -r m c dp50 dp99 drps rp50 rp99 rrps add50 add99 ratio derr rerr \
      np50 np99 nrps nadd50 nadd99 nratio nerr <<<"$r"
    i=$((i + 1)); sep=","; ((i == n)) && sep=""
    printf '    {"mode": "%s", "conns": %d,\n' "$m" "$c"
    printf '     "direct": {"p50_us": %s, "p99_us": %s, "rps": %s, "errors": %d},\n' \
      "$(fmt "$dp50")" "$(fmt "$dp99")" "$(fmt "$drps")" "$derr"
    printf '     "router": {"p50_us": %s, "p99_us": %s, "rps": %s, "errors": %d},\n' \
      "$(fmt "$rp50")" "$(fmt "$rp99")" "$(fmt "$rrps")" "$rerr"
    if [[ $np50 == - ]]; then
      printf '     "nginx": null,\n'
    else
      printf '     "nginx": {"p50_us": %s, "p99_us": %s, "rps": %s, "errors": %d,\n' \
        "$(fmt "$np50")" "$(fmt "$np99")" "$(fmt "$nrps")" "$nerr"
      printf '               "added_p50_us": %s, "added_p99_us": %s, "throughput_ratio_pct": %s},\n' \
        "$nadd50" "$nadd99" "$nratio"
    fi
    printf '     "added_p50_us": %s, "added_p99_us": %s, "throughput_ratio_pct": %s}%s\n' \
      "$add50" "$add99" "$ratio" "$sep"
  done
  printf '  ]\n}\n'
} >"$JSON"
log "wrote $JSON"
