#!/usr/bin/env bash
# Runs the MCP fixtures' self-test (ctest mcp_fixtures): the stdio and
# Streamable HTTP fixture servers against the official @modelcontextprotocol/sdk
# client. Needs tests/mcp/node_modules (deploy/install-deps.sh runs `npm ci`
# in tests/mcp). A missing node or node_modules is a failure, not a skip: CI
# installs them (the same rule as tests/sdk/run.sh).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1; then
  echo "mcp_fixtures: FAIL: node is not installed (deploy/install-deps.sh installs it)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "mcp_fixtures: FAIL: node $(node --version) is too old; the tests need Node.js 20+" >&2
  exit 1
fi
for pkg in @modelcontextprotocol/sdk zod; do
  if [ ! -f "node_modules/$pkg/package.json" ]; then
    echo "mcp_fixtures: FAIL: tests/mcp/node_modules/$pkg is missing; run: npm ci --prefix tests/mcp (deploy/install-deps.sh does)" >&2
    exit 1
  fi
done

# --test-timeout is a backstop; every test also has its own, shorter bound.
# The test files to run are the arguments (ctest: mcp_fixtures, mcp_gateway).
exec node --test --test-reporter=spec --test-concurrency=1 --test-timeout=120000 "$@"
