#!/usr/bin/env bash
# Runs the SDK client tests (ctest sdk_clients): the official openai and
# @anthropic-ai/sdk npm packages, and the elizaOS plugin's client library
# (ai + @ai-sdk/openai-compatible, with its zod peer), against the real
# bitrouterd.
# Needs BITROUTER_BIN_DIR (the build's bin/) and tests/sdk/node_modules
# (deploy/install-deps.sh runs `npm ci --prefix tests/sdk`). A missing
# node_modules is a failure, not a skip: CI installs it.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1; then
  echo "sdk_clients: FAIL: node is not installed (deploy/install-deps.sh installs it)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "sdk_clients: FAIL: node $(node --version) is too old; the openai and @anthropic-ai/sdk packages need Node.js 20+" >&2
  exit 1
fi
for pkg in openai @anthropic-ai/sdk ai @ai-sdk/openai-compatible zod; do
  if [ ! -f "node_modules/$pkg/package.json" ]; then
    echo "sdk_clients: FAIL: tests/sdk/node_modules/$pkg is missing; run: npm ci --prefix tests/sdk (deploy/install-deps.sh does)" >&2
    exit 1
  fi
done
if [ -z "${BITROUTER_BIN_DIR:-}" ]; then
  echo "sdk_clients: FAIL: BITROUTER_BIN_DIR is not set (the build's bin/ directory)" >&2
  exit 1
fi

# One file at a time: each starts its own bitrouterd, and the machine has 2 cores.
# --test-timeout is a backstop; every test also has its own, shorter bound.
files=(*.test.mjs)
exec node --test --test-reporter=spec --test-concurrency=1 --test-timeout=120000 "$@" "${files[@]}"
