#!/usr/bin/env bash
# Installs BitRouter's build and test dependencies from Debian 12 packages.
# Idempotent: packages already present are skipped by apt; safe to re-run.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libuv1-dev node-llhttp libssl-dev libyaml-cpp-dev libsimdjson-dev rapidjson-dev
  libsqlite3-dev libre2-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  wrk curl ca-certificates openssl
  nginx-light   # the benchmark's floor only: tests/bench/run.sh runs its own nginx as a reference hop
  clang libclang-rt-14-dev libfuzzer-14-dev
  # The PostgreSQL store backend links libpq; its tests start a throwaway
  # server from the postgresql package's initdb/postgres (tests/support/pg_server.h).
  postgresql libpq-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm run the SDK client tests (tests/sdk, tests/mcp). The machine image
# ships Node.js 20 with npm; only when either is missing do Debian's packages
# come in (Debian 12's nodejs is 18, below the Node.js 20 that the openai 6.x
# and @anthropic-ai/sdk packages support: see the check below).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Node test packages, exactly as each directory's package-lock.json pins
# them: tests/sdk (the openai and @anthropic-ai/sdk clients, and ai +
# @ai-sdk/openai-compatible, the elizaOS plugin's client), tests/mcp
# (@modelcontextprotocol/sdk: the MCP fixtures and client) and tests/agents
# (the Claude Code and Codex CLIs, native binaries from per-platform optional
# dependencies). Each is skipped while its node_modules was installed from
# that very lockfile.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "install-deps: node $(node --version) is too old (need >= 18)" >&2
  exit 1
fi
if [ "$node_major" -lt 20 ]; then
  echo "install-deps: WARNING: node $(node --version): the openai and @anthropic-ai/sdk packages" \
    "support Node.js 20+, and the sdk_clients and mcp_fixtures tests require it" >&2
fi
ROOT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
for rel in tests/sdk tests/mcp tests/agents; do
  dir="$ROOT_DIR/$rel"
  lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp="$dir/node_modules/.install-deps.sha256"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then
    echo "install-deps: $rel/node_modules up to date"
  else
    echo "install-deps: npm ci in $rel"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$stamp"
  fi
done
