// Issue 17: per-key MCP scopes (`bitrouterctl key create --mcp ...`) and
// virtual tools (config `tools:`) on the real bitrouterd with keys required,
// through the official MCP client and raw JSON-RPC POSTs (to compare answers
// byte for byte).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Router, binDir } from '../sdk/router.mjs';
import { bounded, cleanup, startHttpServer, textOf, waitFor } from './fixtures/harness.mjs';

const T = { timeout: 60000 };
const BASE = ['add', 'change', 'crash', 'echo', 'env', 'fail', 'slow', 'stats', 'whoami'];

describe('per-key MCP scopes and virtual tools', () => {
  let router;
  let gh;
  let fs;
  let spare;
  const keys = {}; // name -> secret

  // bitrouterctl against this router: {status, stdout, stderr}.
  const ctl = (...args) => {
    const r = spawnSync(path.join(binDir(), 'bitrouterctl'), ['--home-dir', router.home, ...args], {
      encoding: 'utf8', timeout: 30000, env: { PATH: '/usr/bin:/bin', HOME: router.home, GRPC_VERBOSITY: 'ERROR' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const createKey = (name, ...flags) => {
    const r = ctl('key', 'create', '--name', name, '--json', ...flags);
    assert.equal(r.status, 0, r.stderr);
    keys[name] = JSON.parse(r.stdout).secret;
  };

  // One JSON-RPC request: {status, body (the JSON-RPC message), text}.
  let nextId = 1;
  async function rpc(route, key, method, params) {
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-06-18',
    };
    if (key) headers.Authorization = `Bearer ${key}`;
    const id = nextId++;
    const r = await fetch(router.baseURL + route, {
      method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
      signal: AbortSignal.timeout(20000),
    });
    let text = await r.text();
    if ((r.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      const data = text.split('\n').filter((l) => l.startsWith('data:'));
      text = data[data.length - 1].slice(5).trim();
    }
    let body = null;
    try { body = JSON.parse(text); } catch {}
    // The id is ours; what follows it is what the comparisons look at.
    return { status: r.status, body, text: text.replace(`"id":${id}`, '"id":ID') };
  }
  const toolNames = async (route, key) => {
    const r = await rpc(route, key, 'tools/list', {});
    assert.equal(r.status, 200, r.text);
    return r.body.result.tools.map((t) => t.name);
  };
  const call = (route, key, name, args = {}) => rpc(route, key, 'tools/call', { name, arguments: args });

  before(async () => {
    gh = await startHttpServer(['--stateless', '--name', 'gh']);
    fs = await startHttpServer(['--stateless', '--name', 'fs']);
    spare = await startHttpServer(['--stateless', '--name', 'spare']);
    const http = (f) => `{type: http, url: "${f.url}"}`;
    router = new Router({
      config: `server:
  skip_auth: false
mcp_servers:
  gh:
    transport: ${http(gh)}
  fs:
    transport: ${http(fs)}
  spare:
    transport: ${http(spare)}
    aggregate: false
  dead:
    transport: {type: http, url: "http://127.0.0.1:1/mcp"}
    aggregate: false
tools:
  vecho:
    description: Echo on the first server that answers
    endpoints:
      - {provider: dead, service_id: echo}
      - {provider: fs, service_id: echo}
    pricing: {default: 0.002}
  vfail:
    endpoints:
      - {provider: gh, service_id: fail}
      - {provider: spare, service_id: echo}
  vlb:
    strategy: load_balance
    description: Who answers
    input_schema: {type: object, properties: {note: {type: string}}}
    endpoints:
      - {provider: gh, service_id: whoami}
      - {provider: fs, service_id: whoami}
  vdead:
    endpoints:
      - {provider: dead, service_id: echo}
`,
    });
    await router.start();
    createKey('all');
    createKey('scoped', '--mcp', 'gh, fs:e*,virtual:vecho');
    createKey('ghonly', '--mcp', 'gh');
  });
  after(async () => {
    if (router) await router.stop();
    await cleanup();
  });

  it('bitrouterctl: --mcp is validated, shown, updated and cleared', T, async () => {
    const bad = ctl('key', 'create', '--name', 'bad', '--mcp', 'fs:a:b');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /MCP pattern 'fs:a:b'/);
    const shown = JSON.parse(ctl('key', 'show', 'scoped', '--json').stdout);
    assert.deepEqual(shown.mcp, ['gh', 'fs:e*', 'virtual:vecho']);
    assert.deepEqual(JSON.parse(ctl('key', 'show', 'all', '--json').stdout).mcp, []);
    assert.match(ctl('key', 'show', 'scoped').stdout, /mcp: +gh,fs:e\*,virtual:vecho/);
    assert.match(ctl('key', 'list').stdout, /MCP/);

    createKey('upd');
    assert.equal((await rpc('/mcp/fs', keys.upd, 'ping', {})).status, 200);
    let r = ctl('key', 'update', 'upd', '--mcp', 'gh', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).mcp, ['gh']);
    // Enforced when the command returns.
    assert.equal((await rpc('/mcp/fs', keys.upd, 'ping', {})).status, 404);
    assert.notEqual(ctl('key', 'update', 'upd', '--mcp', 'x y').status, 0);
    r = ctl('key', 'update', 'upd', '--clear', 'mcp', '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).mcp, []);
    assert.equal((await rpc('/mcp/fs', keys.upd, 'ping', {})).status, 200);
  });

  it('tools/list is filtered by the key on /mcp and /mcp/{id}; virtual tools are listed', T, async () => {
    const all = await toolNames('/mcp', keys.all);
    for (const n of ['fs__add', 'gh__echo', 'vecho', 'vfail', 'vlb', 'vdead']) assert.ok(all.includes(n), all.join(','));
    assert.deepEqual(all, [...all].sort(), 'sorted, virtual tools merged in');
    const scoped = await toolNames('/mcp', keys.scoped);
    assert.deepEqual(scoped, [...BASE.map((t) => `gh__${t}`), 'fs__echo', 'fs__env', 'vecho'].sort());
    // /mcp/{id} keeps the server's own order.
    assert.deepEqual((await toolNames('/mcp/fs', keys.scoped)).sort(), ['echo', 'env']);
    assert.deepEqual((await toolNames('/mcp/gh', keys.scoped)).sort(), BASE);
    assert.deepEqual((await toolNames('/mcp/fs', keys.all)).sort(), BASE);
    assert.deepEqual(await toolNames('/mcp', keys.ghonly), BASE.map((t) => `gh__${t}`));

    // Schemas: configured, else the first reachable endpoint's tool.
    const tools = (await rpc('/mcp', keys.all, 'tools/list', {})).body.result.tools;
    const vecho = tools.find((t) => t.name === 'vecho');
    assert.equal(vecho.description, 'Echo on the first server that answers');
    assert.ok(vecho.inputSchema.properties.text, JSON.stringify(vecho));
    assert.deepEqual(tools.find((t) => t.name === 'vlb').inputSchema,
      { type: 'object', properties: { note: { type: 'string' } } });
    assert.deepEqual(tools.find((t) => t.name === 'vdead').inputSchema, { type: 'object' });

    // The official client sees the same.
    const client = new Client({ name: 'scope-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(router.baseURL + '/mcp'), {
      requestInit: { headers: { Authorization: `Bearer ${keys.scoped}` } },
    });
    await bounded(client.connect(transport), 10000, 'connect');
    const listed = await bounded(client.listTools(), 10000, 'listTools');
    assert.deepEqual(listed.tools.map((t) => t.name), scoped);
    const r = await bounded(client.callTool({ name: 'vecho', arguments: { text: 'via sdk' } }), 10000, 'vecho');
    assert.equal(textOf(r), 'via sdk');
    await client.close();
  });

  it('a hidden tool answers exactly like an unknown one, and never reaches the server', T, async () => {
    const before = (await fs.stats()).calls;
    const hidden = await call('/mcp/fs', keys.scoped, 'add', { a: 1, b: 2 });
    const unknown = await call('/mcp/fs', keys.scoped, 'enosuch', {}); // in scope (e*), not served
    assert.equal(hidden.status, 200);
    assert.deepEqual(hidden.body.error, { code: -32602, message: 'Unknown tool: add' });
    assert.equal(hidden.text.replace('add', 'NAME'), unknown.text.replace('enosuch', 'NAME'));
    // On the aggregate: hidden, unknown in scope, unknown server prefix.
    const a1 = await call('/mcp', keys.scoped, 'fs__add', { a: 1, b: 2 });
    const a2 = await call('/mcp', keys.scoped, 'fs__enosuch', {});
    const a3 = await call('/mcp', keys.scoped, 'nobody__echo', {});
    const a4 = await call('/mcp', keys.scoped, 'vfail', {}); // a virtual tool outside the scope
    assert.equal(a1.text.replace('fs__add', 'NAME'), a2.text.replace('fs__enosuch', 'NAME'));
    assert.equal(a1.text.replace('fs__add', 'NAME'), a3.text.replace('nobody__echo', 'NAME'));
    assert.equal(a1.text.replace('fs__add', 'NAME'), a4.text.replace('vfail', 'NAME'));
    assert.equal((await fs.stats()).calls, before, 'no tools/call reached the server');
    // The same tool is there for a key that may see it.
    assert.equal(textOf((await call('/mcp/fs', keys.all, 'add', { a: 1, b: 2 })).body.result), '3');
    assert.equal(textOf((await call('/mcp', keys.scoped, 'fs__echo', { text: 'ok' })).body.result), 'ok');
  });

  it('a server outside the scope answers like an unknown server', T, async () => {
    const out = await rpc('/mcp/fs', keys.ghonly, 'tools/list', {});
    const none = await rpc('/mcp/nope', keys.ghonly, 'tools/list', {});
    assert.equal(out.status, 404);
    assert.equal(out.status, none.status);
    assert.equal(out.text, none.text);
    assert.equal((await rpc('/mcp/gh', keys.ghonly, 'tools/list', {})).status, 200);
    // Without a key: 401, before anything else.
    assert.equal((await rpc('/mcp/gh', null, 'tools/list', {})).status, 401);
  });

  it("the caller's key never reaches an upstream", T, async () => {
    const r = await call('/mcp/gh', keys.scoped, 'whoami');
    const who = JSON.parse(textOf(r.body.result));
    assert.equal(who.name, 'gh');
    const seen = JSON.stringify(who.headers) + JSON.stringify((await gh.stats()).http.lastHeaders);
    assert.ok(!seen.includes(keys.scoped), seen);
    assert.ok(!seen.includes('brvk_'), seen);
  });

  it('virtual tools: failover past a dead endpoint, none on isError, load_balance rotates', T, async () => {
    const r = await call('/mcp', keys.scoped, 'vecho', { text: 'hello' });
    assert.equal(textOf(r.body.result), 'hello', r.text);
    // One usage record, one attempt per endpoint tried.
    let rec;
    await waitFor(() => {
      const out = ctl('requests', '--json', '--limit', '100');
      rec = JSON.parse(out.stdout).records.find((x) => x.client_protocol === 'mcp' &&
        x.model_requested === 'vecho' && x.attempts.length === 2);
      return rec;
    }, 15000, 'the vecho usage record');
    assert.equal(rec.attempts[0].failure, 'failed', JSON.stringify(rec));
    assert.equal(rec.attempts[1].failure ?? '', '', JSON.stringify(rec));

    const spareBefore = (await spare.stats()).callsByTool.echo ?? 0;
    const failed = await call('/mcp', keys.all, 'vfail');
    assert.equal(failed.body.result.isError, true, failed.text);
    assert.match(textOf(failed.body.result), /fixture failure/);
    assert.equal((await spare.stats()).callsByTool.echo ?? 0, spareBefore, 'isError is an answer: no failover');

    const names = [];
    for (let i = 0; i < 4; i++) {
      names.push(JSON.parse(textOf((await call('/mcp', keys.all, 'vlb')).body.result)).name);
    }
    assert.deepEqual(new Set(names), new Set(['gh', 'fs']), names.join(','));
    assert.notEqual(names[0], names[1]);

    const dead = await call('/mcp', keys.all, 'vdead', { text: 'x' });
    assert.equal(dead.body.error.code, -32603, dead.text);
    assert.match(dead.body.error.message, /vdead/);
    assert.ok(!dead.text.includes('127.0.0.1'), dead.text);
    // Not visible = unknown, even by name.
    assert.deepEqual((await call('/mcp', keys.ghonly, 'vecho', { text: 'x' })).body.error,
      { code: -32602, message: 'Unknown tool: vecho' });
  });

  it('with skip_auth a presented key is still checked, and its scope applies', T, async () => {
    const open = new Router({
      config: `mcp_servers:\n  gh:\n    transport: {type: http, url: "${gh.url}"}\n`,
    });
    try {
      await open.start();
      const r = spawnSync(path.join(binDir(), 'bitrouterctl'),
        ['--home-dir', open.home, 'key', 'create', '--name', 'narrow', '--mcp', 'other', '--json'],
        { encoding: 'utf8', timeout: 30000, env: { PATH: '/usr/bin:/bin', HOME: open.home, GRPC_VERBOSITY: 'ERROR' } });
      assert.equal(r.status, 0, r.stderr);
      const secret = JSON.parse(r.stdout).secret;
      const post = (key) => fetch(open.baseURL + '/mcp/gh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
          ...(key ? { Authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      }).then((x) => x.status);
      assert.equal(await post(null), 200, 'anonymous on loopback');
      assert.equal(await post(secret), 404, 'the key scope hides gh');
      assert.equal(await post('brvk_' + 'x'.repeat(43)), 401, 'an unknown key is refused');
    } finally {
      await open.stop();
    }
  });

  it('GET /v1/tools lists the virtual tools the key may see', T, async () => {
    const get = async (key) => {
      const r = await fetch(router.baseURL + '/v1/tools', { headers: key ? { Authorization: `Bearer ${key}` } : {} });
      return { status: r.status, body: await r.json() };
    };
    const scoped = await get(keys.scoped);
    assert.equal(scoped.status, 200);
    assert.deepEqual(scoped.body, {
      object: 'list',
      data: [{
        name: 'vecho',
        description: 'Echo on the first server that answers',
        input_schema: null,
        strategy: 'priority',
        endpoints: [{ server: 'dead', tool: 'echo' }, { server: 'fs', tool: 'echo' }],
        pricing: { per_call_usd: 0.002 },
      }],
      // The same list in the OpenClaw plugin's shape.
      tools: [{ id: 'vecho', name: 'vecho', provider: 'virtual',
        description: 'Echo on the first server that answers' }],
    });
    const all = await get(keys.all);
    assert.deepEqual(all.body.data.map((t) => t.name), ['vdead', 'vecho', 'vfail', 'vlb']);
    assert.deepEqual(all.body.data[3].input_schema, { type: 'object', properties: { note: { type: 'string' } } });
    assert.equal(all.body.data[2].pricing.per_call_usd, null);
    assert.deepEqual((await get(keys.ghonly)).body.data, []);
    // Open like the plugin's other endpoints, but with keys required an
    // anonymous caller may call no tool, so none is listed (no names,
    // descriptions or schemas given away); a BitRouter key presented is
    // still checked.
    const anonymous = await get(null);
    assert.equal(anonymous.status, 200);
    assert.deepEqual(anonymous.body, { object: 'list', data: [], tools: [] });
    assert.deepEqual((await get('plugin-own-token')).body.data, []);
    assert.equal((await get('brvk_' + 'x'.repeat(43))).status, 401);
  });
});
