// Issue 17: stdio MCP servers through bitrouterd's MCP host (one child per
// server for the whole node, whatever the number of workers), with the
// official MCP client against the real bitrouterd and the stdio fixture.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Router, binDir } from '../sdk/router.mjs';
import { STDIO_SERVER, bounded, cleanup, textOf, waitFor } from './fixtures/harness.mjs';

const T = { timeout: 90000 };

// One stdio server's config entry (YAML), the fixture run by this node.
function stdioServer(id, pidFile, extra = []) {
  const args = [STDIO_SERVER, '--name', id, '--pid-file', pidFile, ...extra].map((a) => JSON.stringify(a));
  return `  ${id}:\n    transport:\n      type: stdio\n      command: ${JSON.stringify(process.execPath)}\n      args: [${args.join(', ')}]\n`;
}

const dirs = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'br-stdio-'));
  dirs.push(d);
  return d;
};
const pidsIn = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : []);
const alive = (pid) => {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').length > 0; // a zombie still has one
  } catch {
    return false;
  }
};

async function connect(router, route) {
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await bounded(client.connect(new StreamableHTTPClientTransport(new URL(router.baseURL + route))), 10000, `connect ${route}`);
  return client;
}

async function whoami(router, route = '/mcp/local', tool = 'whoami') {
  const client = await connect(router, route);
  try {
    return JSON.parse(textOf(await bounded(client.callTool({ name: tool, arguments: {} }), 10000, 'whoami')));
  } finally {
    await client.close();
  }
}

function reload(router, config) {
  fs.writeFileSync(path.join(router.home, 'bitrouter.yaml'), config);
  process.kill(router.child.pid, 'SIGHUP');
}

describe('stdio MCP servers', () => {
  const routers = [];
  after(async () => {
    for (const r of routers) await r.stop();
    await cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const start = async (config, workers = 1) => {
    const router = new Router({ config, workers });
    routers.push(router);
    await router.start();
    return router;
  };

  it('one child for four workers: tools/list, tools/call on /mcp/{id} and through /mcp', T, async () => {
    const dir = tmp();
    const pidFile = path.join(dir, 'local.pids');
    const r4 = await start(`mcp_servers:\n${stdioServer('local', pidFile)}`, 4);
    const client = await connect(r4, '/mcp/local');
    const { tools } = await bounded(client.listTools(), 10000, 'listTools');
    assert.ok(tools.some((t) => t.name === 'echo'), JSON.stringify(tools.map((t) => t.name)));
    const r = await bounded(client.callTool({ name: 'echo', arguments: { text: 'over stdio' } }), 10000, 'echo');
    assert.equal(textOf(r), 'over stdio');
    const sum = await bounded(client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }), 10000, 'add');
    assert.equal(textOf(sum), '42');
    await client.close();
    // Many fresh connections: the workers share the listener, so the calls
    // spread over them; every one reaches the same child.
    const pids = new Set();
    for (let i = 0; i < 24; i++) pids.add((await whoami(r4)).pid);
    assert.equal(pids.size, 1, `one child answered: ${[...pids]}`);
    assert.deepEqual(pidsIn(pidFile), [...pids], 'the child was started once');
    // The aggregate: prefixed names, routed back to the child.
    const agg = await connect(r4, '/mcp');
    const all = await bounded(agg.listTools(), 10000, 'aggregate listTools');
    assert.ok(all.tools.some((t) => t.name === 'local__echo'), JSON.stringify(all.tools.map((t) => t.name)));
    const e = await bounded(agg.callTool({ name: 'local__echo', arguments: { text: 'agg' } }), 10000, 'local__echo');
    assert.equal(textOf(e), 'agg');
    await agg.close();
    const child = [...pids][0];
    await r4.stop();
    assert.equal(alive(child), false, 'the child is gone (reaped) once bitrouterd stopped');
  });

  it('concurrent callers with the same JSON-RPC ids each get their own answers and progress', T, async () => {
    const dir = tmp();
    const pidFile = path.join(dir, 'local.pids');
    const r = await start(`mcp_servers:\n${stdioServer('local', pidFile)}`, 2);
    const clients = await Promise.all(Array.from({ length: 12 }, (_, i) => connect(r, i % 2 ? '/mcp' : '/mcp/local')));
    const results = await bounded(Promise.all(clients.map(async (c, i) => {
      // Same ids on every client (each SDK client counts from 0); the calls
      // overlap in the child.
      // The progress comes back with each caller's own token (the SDK
      // client routes it by token to this call's handler).
      const progress = [];
      const [slow, echo] = await Promise.all([
        c.callTool({ name: i % 2 ? 'local__slow' : 'slow', arguments: { ms: 300 + 20 * i, steps: 3 } }, undefined,
          { onprogress: (p) => progress.push(p.progress) }),
        c.callTool({ name: i % 2 ? 'local__echo' : 'echo', arguments: { text: `client ${i}` } }),
      ]);
      return { slow: textOf(slow), echo: textOf(echo), progress };
    })), 30000, 'concurrent calls');
    results.forEach((res, i) => {
      assert.equal(res.echo, `client ${i}`);
      assert.equal(res.slow, 'done');
      assert.ok(res.progress.length >= 1 && res.progress.every((p) => p >= 1 && p <= 3),
        `client ${i}'s progress: ${JSON.stringify(res.progress)}`);
    });
    for (const c of clients) await c.close();
    assert.equal(pidsIn(pidFile).length, 1);
  });

  it('the host socket (0600): ids and progress tokens restored per connection, unknown server and bad frames refused', T, async () => {
    const dir = tmp();
    const r = await start(`mcp_servers:\n${stdioServer('local', path.join(dir, 'local.pids'))}`, 1);
    const sock = path.join(r.home, 'run', 'mcp-host.sock');
    await waitFor(async () => fs.existsSync(sock), 10000, 'the host socket');
    assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
    const open = async () => {
      const s = net.connect(sock);
      await new Promise((res, rej) => { s.once('connect', res); s.once('error', rej); });
      const c = { s, lines: [], buf: '', closed: false };
      s.on('data', (d) => {
        c.buf += d;
        let nl;
        while ((nl = c.buf.indexOf('\n')) >= 0) {
          c.lines.push(JSON.parse(c.buf.slice(0, nl)));
          c.buf = c.buf.slice(nl + 1);
        }
      });
      s.on('close', () => { c.closed = true; });
      return c;
    };
    const frame = (server, message) => JSON.stringify({ server, message }) + '\n';
    const call = (id, token, ms) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms, steps: 2 }, _meta: { progressToken: token } } });
    const a = await open();
    const b = await open();
    // Same id and token on both connections, in flight together.
    a.s.write(frame('local', call(1, 'tok', 400)));
    b.s.write(frame('local', call(1, 'tok', 200)));
    a.s.write(frame('nope', { jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    const done = (c) => c.lines.some((l) => l.message.id === 1 && l.message.result);
    await waitFor(async () => done(a) && done(b), 20000, 'both answers');
    for (const c of [a, b]) {
      const progress = c.lines.filter((l) => l.message.method === 'notifications/progress');
      assert.equal(progress.length, 2, JSON.stringify(c.lines));
      assert.ok(progress.every((l) => l.for === 1 && l.message.params.progressToken === 'tok'), JSON.stringify(progress));
      assert.equal(c.lines.filter((l) => l.message.id === 1).length, 1, 'one answer per connection');
    }
    const refused = a.lines.find((l) => l.message.id === 2);
    assert.match(refused.message.error.message, /no stdio MCP server 'nope'/);
    // A malformed frame closes that connection only.
    b.s.write('not json\n');
    await waitFor(async () => b.closed, 5000, 'the bad connection closed');
    a.s.write(frame('local', { jsonrpc: '2.0', id: 3, method: 'tools/list' }));
    await waitFor(async () => a.lines.some((l) => l.message.id === 3 && l.message.result), 10000, 'the other connection still served');
    a.s.destroy();
  });

  it('a child that exits fails its calls in flight, then is restarted and serves again', T, async () => {
    const dir = tmp();
    const pidFile = path.join(dir, 'local.pids');
    const r = await start(`mcp_servers:\n${stdioServer('local', pidFile, ['--exit-after', '2'])}`, 2);
    const logFrom = r.logSize();
    const a = await connect(r, '/mcp/local');
    const b = await connect(r, '/mcp/local');
    // slow is call 1; echo is call 2: the child answers it, then exits.
    const inFlight = a.callTool({ name: 'slow', arguments: { ms: 5000, steps: 1 } });
    inFlight.catch(() => {});
    await waitFor(async () => pidsIn(pidFile).length === 1, 5000, 'the child started');
    await new Promise((res) => setTimeout(res, 300));
    const echo = await bounded(b.callTool({ name: 'echo', arguments: { text: 'last' } }), 10000, 'echo');
    assert.equal(textOf(echo), 'last');
    await assert.rejects(bounded(inFlight, 10000, 'the call in flight'), /exited/);
    const first = pidsIn(pidFile)[0];
    // Restarted after its back-off; the next call succeeds on a new child.
    const next = await waitFor(async () => {
      try {
        const w = await whoami(r);
        return w.pid !== first ? w : null;
      } catch {
        return null;
      }
    }, 15000, 'a call on the restarted child', 100);
    assert.notEqual(next.pid, first);
    assert.equal(pidsIn(pidFile).length, 2, 'restarted once');
    assert.equal(alive(first), false, 'the crashed child was reaped');
    assert.match(r.log(logFrom), /mcp server local: restarting in \d+ ms/);
    // bitrouterctl mcp servers shows the host's view of the child.
    const listed = await waitFor(() => {
      const out = JSON.parse(execFileSync(path.join(binDir(), 'bitrouterctl'),
        ['--home-dir', r.home, 'mcp', 'servers', '--json'], { encoding: 'utf8', timeout: 20000 }));
      const local = out.servers.find((s) => s.id === 'local');
      return local?.pid === next.pid && local.state === 'ready' ? local : null;
    }, 10000, 'ctl shows the restarted child', 200);
    assert.equal(listed.transport, 'stdio');
    assert.equal(listed.status, 'ok');
    assert.ok(listed.restarts >= 1, JSON.stringify(listed));
    assert.ok(listed.tool_count >= 9);
    await a.close();
    await b.close();
  });

  it('reload restarts only the server that changed; removing them stops their children', T, async () => {
    const dir = tmp();
    const fileA = path.join(dir, 'a.pids');
    const fileB = path.join(dir, 'b.pids');
    const r = await start(`mcp_servers:\n${stdioServer('alpha', fileA)}${stdioServer('beta', fileB)}`, 2);
    const a1 = (await whoami(r, '/mcp/alpha')).pid;
    const b1 = (await whoami(r, '/mcp/beta')).pid;
    reload(r, `mcp_servers:\n${stdioServer('alpha', fileA)}${stdioServer('beta', fileB, ['--tools', '2'])}`);
    const b2 = await waitFor(async () => {
      try {
        const w = await whoami(r, '/mcp/beta');
        return w.pid !== b1 ? w.pid : null;
      } catch {
        return null;
      }
    }, 15000, 'beta restarted with its new args', 100);
    assert.notEqual(b2, b1);
    assert.equal((await whoami(r, '/mcp/alpha')).pid, a1, 'alpha kept its child');
    assert.deepEqual(pidsIn(fileA), [a1]);
    await waitFor(async () => !alive(b1), 10000, 'the old beta child is gone');
    // The aggregate has both, with beta's new tools.
    const agg = await connect(r, '/mcp');
    const names = (await bounded(agg.listTools(), 10000, 'listTools')).tools.map((t) => t.name);
    assert.ok(names.includes('alpha__echo') && names.includes('beta__t0001'), JSON.stringify(names));
    await agg.close();
    // No stdio server left: the children (and the host) stop, reaped.
    reload(r, 'mcp_servers: {}\n');
    await waitFor(async () => !alive(a1) && !alive(b2), 15000, 'the children stopped and were reaped');
    assert.equal(r.exited, null, 'bitrouterd keeps running');
  });

  it('a child deaf to stdin EOF and SIGTERM is killed; a host that dies is restarted with its servers', T, async () => {
    const dir = tmp();
    const fileS = path.join(dir, 'stubborn.pids');
    const fileL = path.join(dir, 'local.pids');
    const r = await start(`mcp_servers:\n${stdioServer('stubborn', fileS, ['--ignore-stdin-eof', '--ignore-sigterm'])}${stdioServer('local', fileL)}`, 1);
    const stubborn = (await whoami(r, '/mcp/stubborn')).pid;
    const first = await whoami(r, '/mcp/local');
    const logFrom = r.logSize();
    // Removing it: stdin closed, SIGTERM after 2 s (ignored), SIGKILL after 2 more.
    reload(r, `mcp_servers:\n${stdioServer('local', fileL)}`);
    await waitFor(async () => !alive(stubborn), 15000, 'the stubborn child killed and reaped');
    const log = r.log(logFrom);
    assert.match(log, /mcp server stubborn: pid \d+ still running 2 s after stdin closed; SIGTERM/);
    assert.match(log, /mcp server stubborn: pid \d+ ignored SIGTERM; SIGKILL/);
    assert.equal((await whoami(r, '/mcp/local')).pid, first.pid, 'the other server kept its child');
    // The host (the children's parent) dies: its child goes with it, and
    // bitrouterd starts a new host, which starts the server again.
    process.kill(first.ppid, 'SIGKILL');
    const next = await waitFor(async () => {
      try {
        const w = await whoami(r, '/mcp/local');
        return w.pid !== first.pid ? w : null;
      } catch {
        return null;
      }
    }, 20000, 'the server served by a new host', 100);
    assert.notEqual(next.ppid, first.ppid, 'a new host');
    await waitFor(async () => !alive(first.pid), 10000, 'the old child did not outlive its host');
    assert.match(r.log(logFrom), /the MCP host pid \d+ killed by signal 9 \(Killed\); restarting in \d+ ms/);
  });

  it('a call that times out is cancelled in the child; a client that goes away cancels its call', T, async () => {
    const dir = tmp();
    const r = await start(`mcp_servers:\n${stdioServer('local', path.join(dir, 'local.pids'))}    timeout: 700ms\n`, 1);
    const stats = async () => {
      const c = await connect(r, '/mcp/local');
      try {
        return JSON.parse(textOf(await bounded(c.callTool({ name: 'stats', arguments: {} }), 10000, 'stats')));
      } finally {
        await c.close();
      }
    };
    const client = await connect(r, '/mcp/local');
    await assert.rejects(
      bounded(client.callTool({ name: 'slow', arguments: { ms: 5000, steps: 1 } }), 10000, 'slow'),
      /timed out/);
    // The worker's notifications/cancelled reached the child under the host's id.
    await waitFor(async () => (await stats()).cancelled === 1, 5000, 'the child saw the cancellation', 100);
    await client.close();
    // A caller that disconnects mid-call: its request is cancelled too (the
    // worker cancels it, and the host forwards that to the child).
    const controller = new AbortController();
    const gone = fetch(r.baseURL + '/mcp/local', {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms: 600, steps: 1 } } }),
    }).catch(() => null);
    await new Promise((res) => setTimeout(res, 200));
    controller.abort();
    await gone;
    await waitFor(async () => (await stats()).cancelled === 2, 5000, 'the second cancellation', 100);
  });
});
