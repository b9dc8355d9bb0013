// The `bitrouter` front (issue 18 item 1) through the real binaries: the
// manual's global path flags put every file where they say, and the
// original's commands (start, status, route, reload, restart, stop, init,
// --version) drive the daemon over its control socket.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startFakeUpstream, UPSTREAM_KEYS } from './fake_upstream.mjs';
import { binDir } from './router.mjs';

function runner(env, flags) {
  const bin = path.join(binDir(), 'bitrouter');
  return (...args) => {
    const r = spawnSync(bin, [...flags, ...args], { env, timeout: 30000, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
}

test('bitrouter: path flags, start, status, route, reload, restart, stop', { timeout: 120000 }, async () => {
  const upstream = await startFakeUpstream();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'br-cli-'));
  const home = path.join(root, 'home');
  const etc = path.join(root, 'etc');
  fs.mkdirSync(home);
  fs.mkdirSync(etc);
  const config = path.join(etc, 'router.yaml');
  const envFile = path.join(etc, 'secrets.env');
  const runDir = path.join(root, 'rt');
  const logsDir = path.join(root, 'lg');
  const db = path.join(root, 'data', 'usage.db');
  fs.mkdirSync(path.dirname(db));
  fs.writeFileSync(
    config,
    `server:
  listen: 127.0.0.1:0
  workers: 1
providers:
  fakeoai:
    api_protocol: openai
    api_base: http://127.0.0.1:${upstream.port}/v1
    api_key: \${FAKE_KEY}
models:
  chat:
    endpoints:
      - provider: fakeoai
        model_id: up-1
`,
  );
  fs.writeFileSync(envFile, `FAKE_KEY=${UPSTREAM_KEYS.openai}\n`);
  const env = { PATH: '/usr/bin:/bin', HOME: root, GRPC_VERBOSITY: 'ERROR' };
  for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS']) if (process.env[k]) env[k] = process.env[k];
  const br = runner(env, ['--home-dir', home, '--config-file', config, '--env-file', envFile, '--run-dir', runDir, '--logs-dir', logsDir, '--db', `sqlite://${db}`]);

  const version = br('--version');
  assert.equal(version.code, 0);
  assert.match(version.out.trim(), /^bitrouter \d+\.\d+\.\d+$/);

  let status = br('status');
  assert.equal(status.code, 0, status.err);
  assert.match(status.out, /^daemon: {4}stopped$/m);
  assert.match(status.out, new RegExp(`^config: {4}${config}$`, 'm'));
  assert.match(status.out, new RegExp(`^runtime: {3}${runDir}$`, 'm'));

  const started = br('start');
  try {
    assert.equal(started.code, 0, started.err);
    // Every file where the flags say, nothing in <home>/run or <home>/logs.
    assert.ok(fs.existsSync(path.join(runDir, 'control.sock')));
    assert.ok(fs.existsSync(path.join(runDir, 'bitrouterd.pid')));
    assert.ok(fs.existsSync(path.join(logsDir, 'bitrouterd.log')));
    assert.ok(fs.existsSync(db), 'the --db store');
    assert.ok(!fs.existsSync(path.join(home, 'run', 'control.sock')));
    assert.ok(!fs.existsSync(path.join(home, 'bitrouter.db')));
    const pid = fs.readFileSync(path.join(runDir, 'bitrouterd.pid'), 'utf8').trim();
    const listen = fs.readFileSync(path.join(runDir, 'listen.addr'), 'utf8').trim();

    status = br('status');
    assert.equal(status.code, 0, status.err);
    assert.equal(
      status.out,
      [
        `daemon:    running (pid ${pid})`,
        `home:      ${home}`,
        `config:    ${config}`,
        `runtime:   ${runDir}`,
        `listen:    ${listen}`,
        'providers: fakeoai',
        'models:    chat',
        '',
      ].join('\n'),
    );
    // The config's key came from --env-file: a request reaches the upstream.
    const res = await fetch(`http://${listen}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    assert.equal(upstream.last('/v1/chat/completions').headers.authorization, `Bearer ${UPSTREAM_KEYS.openai}`);

    // route add | list | <model> | rm
    assert.equal(br('route', 'add', 'fast', 'fakeoai:up-2').code, 0);
    const list = br('route', 'list');
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^fast\s+runtime\s+priority\s+fakeoai:up-2$/m);
    const trace = br('route', 'fast');
    assert.equal(trace.code, 0, trace.err);
    assert.match(trace.out, /fakeoai:up-2/);
    assert.equal(br('route', 'nope').code, 4, 'a model that does not resolve');
    assert.equal(br('route', 'rm', 'fast').code, 0);
    assert.doesNotMatch(br('route', 'list').out, /^fast/m);

    // reload picks up a changed config file (the one --config-file names).
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('  chat:', '  chat2:'));
    const reload = br('reload');
    assert.equal(reload.code, 0, reload.err);
    assert.match(br('status').out, /^models: {4}chat2$/m);

    const restarted = br('restart');
    assert.equal(restarted.code, 0, restarted.err);
    const pid2 = fs.readFileSync(path.join(runDir, 'bitrouterd.pid'), 'utf8').trim();
    assert.notEqual(pid2, pid);
    assert.match(br('status').out, new RegExp(`^daemon: {4}running \\(pid ${pid2}\\)$`, 'm'));

    // Commands of the original that come later say so, with a non-zero exit.
    const keygen = br('keygen', '--scope', 'api');
    assert.equal(keygen.code, 2);
    assert.match(keygen.err, /not supported yet/);
  } finally {
    const stopped = br('stop');
    assert.equal(stopped.code, 0, stopped.err);
    await upstream.close();
  }
  assert.match(br('status').out, /^daemon: {4}stopped$/m);
  assert.ok(!fs.existsSync(path.join(runDir, 'control.sock')));

  // init writes the starter file where --config-file says.
  const fresh = path.join(root, 'fresh.yaml');
  const init = runner(env, ['--home-dir', home, '--config-file', fresh])('init');
  assert.equal(init.code, 0, init.err);
  assert.ok(fs.existsSync(fresh));
});
