// Runs the real bitrouterd (which starts a real bitrouter-worker) the way the
// C++ e2e harness does (tests/e2e/router_process.cc): a fresh temp home with
// bitrouter.yaml, `bitrouterd --home-dir H --listen 127.0.0.1:0 --workers 1`,
// a clean environment (PATH, HOME=H), readiness = <home>/run/listen.addr plus
// GET /health == 200. Every wait is bounded; stop() is SIGTERM then SIGKILL of
// the whole process group, and an exit hook kills a daemon left running.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function binDir() {
  const dir = process.env.BITROUTER_BIN_DIR;
  if (!dir) throw new Error('BITROUTER_BIN_DIR is not set (the directory holding bitrouterd and bitrouter-worker)');
  for (const b of ['bitrouterd', 'bitrouter-worker']) {
    const p = path.join(dir, b);
    try {
      fs.accessSync(p, fs.constants.X_OK);
    } catch {
      throw new Error(`${p} is missing or not executable (build it first)`);
    }
  }
  return dir;
}

export function configYaml(upstreamPort) {
  const base = `http://127.0.0.1:${upstreamPort}/v1`;
  return `inherit_defaults: false
providers:
  fakeoai:
    api_protocol: openai
    api_base: ${base}
    api_key: upstream-oai-key
  fakeant:
    api_protocol: anthropic
    api_base: ${base}
    api_key: upstream-ant-key
  fakeresp:
    api_protocol: openai_responses
    api_base: ${base}
    api_key: upstream-oai-key
  fakegem:
    api_protocol: google
    api_base: ${base}
    api_key: upstream-gem-key
`;
}

const live = new Set(); // routers to kill if the test process exits early
process.on('exit', () => {
  for (const r of live) {
    r.killNow();
    if (!process.env.BITROUTER_SDK_KEEP_HOME) fs.rmSync(r.home, { recursive: true, force: true });
  }
});

export class Router {
  constructor({ config, startTimeoutMs = 20000, workers = 1 }) {
    this.workers = workers;
    this.config = config;
    this.startTimeoutMs = startTimeoutMs;
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'br-sdk-'));
    this.child = null;
    this.exited = null; // {code, signal} once it exited
    this.port = 0;
  }

  get logPath() {
    return path.join(this.home, 'bitrouterd.log');
  }

  get baseURL() {
    return `http://127.0.0.1:${this.port}`;
  }

  // bitrouterd's stderr (workers included), from byte `from` on.
  log(from = 0) {
    try {
      const buf = fs.readFileSync(this.logPath);
      return buf.subarray(from).toString('utf8');
    } catch {
      return '';
    }
  }

  logSize() {
    try {
      return fs.statSync(this.logPath).size;
    } catch {
      return 0;
    }
  }

  async start() {
    const dir = binDir();
    fs.writeFileSync(path.join(this.home, 'bitrouter.yaml'), this.config);
    const env = { PATH: '/usr/bin:/bin', HOME: this.home, GRPC_VERBOSITY: 'ERROR' };
    for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS']) if (process.env[k]) env[k] = process.env[k];
    const out = fs.openSync(path.join(this.home, 'stdout.log'), 'a');
    const err = fs.openSync(this.logPath, 'a');
    this.child = spawn(
      path.join(dir, 'bitrouterd'),
      ['--home-dir', this.home, '--listen', '127.0.0.1:0', '--workers', String(this.workers)],
      { env, stdio: ['ignore', out, err], detached: true }, // own process group
    );
    fs.closeSync(out);
    fs.closeSync(err);
    live.add(this);
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = { code, signal };
        live.delete(this);
        resolve(this.exited);
      });
      this.child.once('error', (e) => {
        this.exited = { code: -1, signal: null, error: e };
        live.delete(this);
        resolve(this.exited);
      });
    });
    const deadline = Date.now() + this.startTimeoutMs;
    const addrFile = path.join(this.home, 'run', 'listen.addr');
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(`bitrouterd exited early (${JSON.stringify(this.exited)}):\n${this.log()}`);
      }
      let addr = '';
      try {
        addr = fs.readFileSync(addrFile, 'utf8').trim();
      } catch {}
      const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
      if (port > 0) {
        this.port = port;
        try {
          const r = await fetch(`${this.baseURL}/health`, { signal: AbortSignal.timeout(1000) });
          await r.arrayBuffer();
          if (r.status === 200) return this;
        } catch {}
      }
      await sleep(25);
    }
    await this.stop();
    throw new Error(`bitrouterd did not become healthy within ${this.startTimeoutMs} ms:\n${this.log()}`);
  }

  // Resolves with the exit status, or 'timeout' after `ms` (the timer is
  // cancelled either way, so it never holds the process open).
  async waitExit(ms) {
    const ac = new AbortController();
    const t = sleep(ms, 'timeout', { signal: ac.signal }).catch(() => 'aborted');
    try {
      return await Promise.race([this.exitPromise, t]);
    } finally {
      ac.abort();
    }
  }

  killNow() {
    if (this.child && !this.exited) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {}
    }
  }

  // SIGTERM and wait (bitrouterd stops its workers); SIGKILL the process group
  // after `timeoutMs`. Removes the home unless BITROUTER_SDK_KEEP_HOME is set.
  async stop(timeoutMs = 15000) {
    if (this.child && !this.exited) {
      try {
        process.kill(this.child.pid, 'SIGTERM');
      } catch {}
      if ((await this.waitExit(timeoutMs)) === 'timeout') {
        this.killNow();
        await this.waitExit(5000);
      }
    }
    // Workers of the group that outlived the daemon.
    if (this.child) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {}
    }
    if (process.env.BITROUTER_SDK_KEEP_HOME) {
      console.error(`bitrouterd home kept at ${this.home}`);
    } else {
      fs.rmSync(this.home, { recursive: true, force: true });
    }
    return this.exited;
  }
}
