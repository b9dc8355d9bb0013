// Shared set-up for the agent harness tests: the real Claude Code and Codex
// CLIs (exact versions in package-lock.json), run non-interactively with one
// prompt, through the real bitrouterd + bitrouter-worker, to the SDK tests'
// fake upstream (../sdk/fake_upstream.mjs) in each of its four protocols.
//
// Everything stays on 127.0.0.1:
//   - the harnesses' telemetry, update checks, plugin syncs and error reports
//     are switched off (env and config below);
//   - HTTP_PROXY / HTTPS_PROXY point at a local trap proxy (NO_PROXY covers
//     127.0.0.1), so a proxy-aware request to anywhere else reaches the trap,
//     which refuses it and records it; every test asserts the trap saw
//     nothing.
// Every child gets its own process group and a bounded run; the group is
// SIGKILLed on timeout and when this process exits.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CLIENT_KEY = 'agent-client-key';
export const RUN_TIMEOUT_MS = 60000;

// Claude Code is a native binary from the platform package that
// @anthropic-ai/claude-code lists as an optional dependency; its postinstall
// links it over bin/claude.exe. Use the platform package's copy when it is
// there (it does not depend on the install script having run).
export const CLAUDE_BIN = (() => {
  const native = path.join(HERE, 'node_modules', '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, 'claude');
  return fs.existsSync(native) ? native : path.join(HERE, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
})();
export const CODEX_JS = path.join(HERE, 'node_modules', '@openai', 'codex', 'bin', 'codex.js');

// The upstream protocols, as the providers of ../sdk/router.mjs configYaml
// name them, with the path the fake upstream serves each on.
export const PROTOCOLS = [
  { name: 'Messages', provider: 'fakeant', path: /^\/v1\/messages$/ },
  { name: 'Chat', provider: 'fakeoai', path: /^\/v1\/chat\/completions$/ },
  { name: 'Responses', provider: 'fakeresp', path: /^\/v1\/responses$/ },
  { name: 'Gemini', provider: 'fakegem', path: /^\/v1\/models\/[^/]+:(stream)?[gG]enerateContent$/ },
];

// A virtual model per case: `route` (the model name the harness is told to
// use) -> `upstreamModel` at the case's provider.
export function routesYaml(cases) {
  let y = 'models:\n';
  for (const c of cases) {
    y += `  ${c.route}:\n    strategy: priority\n    endpoints:\n      - provider: ${c.protocol.provider}\n        model_id: ${c.upstreamModel}\n`;
  }
  return y;
}

// ------------------------------------------------------------ trap proxy

// An HTTP proxy on 127.0.0.1 that forwards nothing: CONNECT and plain
// requests are answered 403 and recorded.
export async function startTrapProxy() {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('bitrouter agent tests: no traffic leaves 127.0.0.1\n');
  });
  server.on('connect', (req, socket) => {
    hits.push(`CONNECT ${req.url}`);
    socket.on('error', () => {});
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    hits,
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// ------------------------------------------------------------ children

const liveGroups = new Set(); // process groups of harnesses still running
const liveTemps = new Set(); // their temp dirs
process.on('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  for (const dir of liveTemps) fs.rmSync(dir, { recursive: true, force: true });
});
// A signal (ctest's timeout, Ctrl-C, the test runner going away) exits
// through the 'exit' hooks above and in ../sdk/router.mjs, which kill the
// harnesses and the router and remove their temp dirs.
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(sig, () => process.exit(128 + n));
}

// Runs `cmd args` in its own process group with exactly `env`, stdin from
// /dev/null, in `cwd`. Resolves {code, signal, stdout, stderr, timedOut, ms}
// within `timeoutMs` (+ a second for the kill): on timeout the whole group is
// SIGKILLed. Whatever the outcome, the group is SIGKILLed once the leader is
// gone, so nothing the harness started outlives the run.
export function runBounded(cmd, args, { env, cwd, timeoutMs = RUN_TIMEOUT_MS }) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    let timedOut = false;
    let done = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    };
    if (child.pid) liveGroups.add(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    // A grandchild holding stdout open must not hold the test: after the
    // leader exited, 'close' gets a second at most.
    let closeTimer = null;
    const finish = (code, signal, error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(closeTimer);
      killGroup();
      liveGroups.delete(child.pid);
      resolve({
        code, signal, error, timedOut, ms: Date.now() - started,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    };
    child.once('error', (e) => finish(null, null, e));
    child.once('exit', (code, signal) => {
      closeTimer = setTimeout(() => finish(code, signal), 1000);
    });
    child.once('close', (code, signal) => finish(code, signal));
  });
}

// A fresh directory under the OS temp dir with home/ and work/ in it.
export function tempHome(prefix) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  liveTemps.add(root);
  fs.mkdirSync(path.join(root, 'home'));
  fs.mkdirSync(path.join(root, 'work'));
  return root;
}

export function removeTemp(dir) {
  liveTemps.delete(dir);
  if (process.env.BITROUTER_SDK_KEEP_HOME) {
    console.error(`agent temp dir kept at ${dir}`);
  } else {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The environment every harness starts from: nothing from ours but PATH
// (node's directory first, for codex.js), a temp HOME, and the trap proxy.
export function baseEnv(home, trapURL) {
  return {
    PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    HTTP_PROXY: trapURL,
    HTTPS_PROXY: trapURL,
    http_proxy: trapURL,
    https_proxy: trapURL,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}

// ------------------------------------------------------------ harnesses

// Claude Code: `claude -p PROMPT` (print mode: the answer on stdout), every
// model slot (main, small/fast, haiku/sonnet/opus aliases, subagents) set to
// the case's route, no non-essential traffic.
export function runClaude({ routerURL, model, prompt, trapURL, timeoutMs }) {
  const root = tempHome('br-agent-claude-');
  const home = path.join(root, 'home');
  const env = {
    ...baseEnv(home, trapURL),
    ANTHROPIC_BASE_URL: routerURL,
    ANTHROPIC_API_KEY: CLIENT_KEY,
    ANTHROPIC_MODEL: model,
    ANTHROPIC_SMALL_FAST_MODEL: model,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: model,
    ANTHROPIC_DEFAULT_SONNET_MODEL: model,
    ANTHROPIC_DEFAULT_OPUS_MODEL: model,
    CLAUDE_CODE_SUBAGENT_MODEL: model,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
  };
  const args = ['-p', prompt, '--model', model, '--output-format', 'text', '--no-session-persistence'];
  return runBounded(CLAUDE_BIN, args, { env, cwd: path.join(root, 'work'), timeoutMs }).finally(() => removeTemp(root));
}

// Codex: `codex exec` with a temp CODEX_HOME whose config.toml makes the
// router a custom Responses provider and switches off update checks,
// analytics, feedback, plugin/app syncs and the shell snapshot.
export function codexConfig({ routerURL, model }) {
  return `model = "${model}"
model_provider = "bitrouter"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[features]
plugins = false
remote_plugin = false
apps = false
shell_snapshot = false

[model_providers.bitrouter]
name = "BitRouter"
base_url = "${routerURL}/v1"
env_key = "BITROUTER_AGENT_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
`;
}

export function runCodex({ routerURL, model, prompt, trapURL, timeoutMs }) {
  const root = tempHome('br-agent-codex-');
  const home = path.join(root, 'home');
  const codexHome = path.join(home, '.codex');
  fs.mkdirSync(codexHome);
  fs.writeFileSync(path.join(codexHome, 'config.toml'), codexConfig({ routerURL, model }));
  const env = {
    ...baseEnv(home, trapURL),
    CODEX_HOME: codexHome,
    BITROUTER_AGENT_KEY: CLIENT_KEY,
  };
  const args = [CODEX_JS, 'exec', '--skip-git-repo-check', '--sandbox', 'read-only', '--color', 'never', '-m', model, prompt];
  return runBounded(process.execPath, args, { env, cwd: path.join(root, 'work'), timeoutMs }).finally(() => removeTemp(root));
}
