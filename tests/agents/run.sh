#!/usr/bin/env bash
# Runs the agent harness tests (ctest agent_harnesses): the real Claude Code
# and Codex CLIs against the real bitrouterd, to a fake upstream of each
# protocol. Needs BITROUTER_BIN_DIR (the build's bin/), tests/sdk (the fake
# upstream and the router helper) and tests/agents/node_modules
# (deploy/install-deps.sh runs `npm ci` here). A missing node_modules is a
# failure, not a skip: CI installs it.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1; then
  echo "agent_harnesses: FAIL: node is not installed (deploy/install-deps.sh installs it)" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "agent_harnesses: FAIL: node $(node --version) is too old; the tests need Node.js 20+" >&2
  exit 1
fi
for f in @anthropic-ai/claude-code/package.json @openai/codex/bin/codex.js; do
  if [ ! -f "node_modules/$f" ]; then
    echo "agent_harnesses: FAIL: tests/agents/node_modules/$f is missing; run: npm ci --prefix tests/agents (deploy/install-deps.sh does)" >&2
    exit 1
  fi
done
# Both CLIs are native binaries that come as optional, per-platform
# dependencies: check that this platform's were installed and run.
check_home=$(mktemp -d)
for cli in claude codex; do
  if ! out=$(HOME="$check_home" CODEX_HOME="$check_home" node --input-type=module -e "
    import { execFileSync } from 'node:child_process';
    import { CLAUDE_BIN, CODEX_JS } from './agents.mjs';
    const [cmd, args] = '$cli' === 'claude' ? [CLAUDE_BIN, ['--version']] : [process.execPath, [CODEX_JS, '--version']];
    process.stdout.write(execFileSync(cmd, args, { timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] }).toString());
  " 2>&1 </dev/null); then
    rm -rf "$check_home"
    echo "agent_harnesses: FAIL: the $cli binary does not run (is its platform package installed? run: npm ci --prefix tests/agents):" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "agent_harnesses: $cli: $out"
done
rm -rf "$check_home"
if [ -z "${BITROUTER_BIN_DIR:-}" ]; then
  echo "agent_harnesses: FAIL: BITROUTER_BIN_DIR is not set (the build's bin/ directory)" >&2
  exit 1
fi

# One file, one router; the cases run one at a time (2 cores).
# --test-timeout is a backstop; every case has its own, shorter bound.
exec node --test --test-reporter=spec --test-concurrency=1 --test-timeout=120000 "$@" harnesses.test.mjs
