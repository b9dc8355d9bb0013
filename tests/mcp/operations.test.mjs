// Issue 17, items 9, 10 and the tool policy: what the gateway caches, counts
// and enforces. The official MCP client against the real bitrouterd:
// list results cached per worker (evicted by a server's list_changed and by
// a reload), MCP metrics on /metrics, one usage record per tools/call, and
// the guardrails tool policy applied to an MCP server by its id.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Router, binDir } from '../sdk/router.mjs';
import { bounded, cleanup, startHttpServer, textOf, waitFor } from './fixtures/harness.mjs';

const T = { timeout: 60000 };

async function connect(router, p) {
  const client = new Client({ name: 'operations-test', version: '1.0.0' });
  await bounded(client.connect(new StreamableHTTPClientTransport(new URL(router.baseURL + p))), 10000, 'connect');
  return client;
}

function ctl(router, ...args) {
  return execFileSync(path.join(binDir(), 'bitrouterctl'), ['--home-dir', router.home, ...args],
    { encoding: 'utf8', timeout: 20000 });
}

const upstreamLists = async (fixture) => (await fixture.stats()).http.methods['tools/list'] ?? 0;

async function rawCall(router, p, body) {
  const r = await fetch(router.baseURL + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200);
  return r.json();
}

describe('gateway operations', () => {
  const routers = [];
  after(async () => {
    for (const r of routers) await r.stop();
    await cleanup();
  });

  async function start(config, fixtureArgs = ['--stateless']) {
    const fixture = await startHttpServer([...fixtureArgs, '--name', 'fix']);
    const router = new Router({
      config: `mcp_servers:\n  fix:\n    transport: {type: http, url: "${fixture.url}"}\n${config}`,
    });
    routers.push(router);
    await router.start();
    return { fixture, router };
  }

  it('lists are cached; list_changed and a reload evict them', T, async () => {
    const { fixture, router } = await start('mcp:\n  cache: {ttl: 60s}\n');
    const client = await connect(router, '/mcp/fix');
    const before = await upstreamLists(fixture);
    const first = (await bounded(client.listTools(), 10000, 'list')).tools.map((t) => t.name);
    const second = (await bounded(client.listTools(), 10000, 'list')).tools.map((t) => t.name);
    assert.deepEqual(second, first);
    assert.equal(await upstreamLists(fixture), before + 1, 'the second list came from the cache');
    // The aggregate asks the same server the same question: cached too.
    const agg = await connect(router, '/mcp');
    const aggNames = (await bounded(agg.listTools(), 10000, 'aggregate list')).tools.map((t) => t.name);
    assert.ok(aggNames.includes('fix__echo'));
    assert.equal(await upstreamLists(fixture), before + 1);
    // `change` adds a tool and sends notifications/tools/list_changed on its
    // answer's stream: the server's entries go.
    const added = textOf(await bounded(client.callTool({ name: 'change', arguments: {} }), 10000, 'change'));
    const third = (await bounded(client.listTools(), 10000, 'list')).tools.map((t) => t.name);
    assert.ok(third.includes(added), `${added} listed after list_changed: ${third}`);
    assert.equal(await upstreamLists(fixture), before + 2);
    // A reload (even of the same config) starts the cache afresh.
    ctl(router, 'reload');
    await bounded(client.listTools(), 10000, 'list');
    assert.equal(await upstreamLists(fixture), before + 3);
    await bounded(client.listTools(), 10000, 'list');
    assert.equal(await upstreamLists(fixture), before + 3);
    await client.close();
    await agg.close();
  });

  it('an aggregate member that fails keeps its last good list, marked degraded, and is asked again', T, async () => {
    const { fixture, router } = await start('mcp:\n  cache: {ttl: 200ms}\n');
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const good = await rawCall(router, '/mcp', list);
    assert.ok(good.result.tools.some((t) => t.name === 'fix__echo'));
    assert.equal(good.result._bitrouterErrors, undefined);
    await fixture.control({ failList: true });
    await new Promise((r) => setTimeout(r, 300));  // past the TTL
    const before = await upstreamLists(fixture);
    const degraded = await rawCall(router, '/mcp', list);
    assert.deepEqual(degraded.result.tools.map((t) => t.name), good.result.tools.map((t) => t.name));
    assert.equal(degraded.result._bitrouterErrors.length, 1);
    assert.equal(degraded.result._bitrouterErrors[0].server, 'fix');
    assert.match(degraded.result._bitrouterErrors[0].error, /^degraded/);
    await rawCall(router, '/mcp', list);
    assert.equal(await upstreamLists(fixture), before + 2, 'a failing member is asked again each time');
    await fixture.control({ failList: false });
    const healed = await rawCall(router, '/mcp', list);
    assert.equal(healed.result._bitrouterErrors, undefined);
  });

  it('bitrouterctl mcp servers and tools show what the gateway serves, keys required or not', T, async () => {
    const { router } = await start(`  down:
    transport: {type: http, url: "http://127.0.0.1:9/mcp"}
server:
  skip_auth: false
`);
    // The gateway itself needs a key; a forged internal token opens nothing.
    for (const headers of [{}, { 'x-bitrouter-internal': 'forged' }]) {
      const r = await fetch(router.baseURL + '/mcp/fix', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      assert.equal(r.status, 401);
    }
    const servers = JSON.parse(ctl(router, 'mcp', 'servers', '--json')).servers;
    assert.deepEqual(servers.map((s) => s.id), ['down', 'fix']);
    const fix = servers.find((s) => s.id === 'fix');
    assert.equal(fix.status, 'ok');
    assert.equal(fix.transport, 'http');
    assert.ok(fix.tool_count >= 9, JSON.stringify(fix));
    const down = servers.find((s) => s.id === 'down');
    assert.equal(down.status, 'error');
    assert.equal(down.tool_count, -1);
    assert.match(down.error, /MCP server 'down' failed: the server is unreachable/);
    assert.equal(down.url, 'http://127.0.0.1:9/mcp');
    const text = ctl(router, 'mcp', 'servers');
    assert.match(text, /^fix\s+http\s+ok\s+\d+/m);

    const tools = JSON.parse(ctl(router, 'mcp', 'tools', 'fix', '--json')).servers;
    assert.equal(tools.length, 1);
    assert.ok(tools[0].tools.some((t) => t.name === 'echo' && t.description.startsWith('Returns the given text')));
    assert.equal(tools[0].tools.length, tools[0].tool_count);
    assert.throws(() => ctl(router, 'mcp', 'tools', 'nosuch'), /no MCP server 'nosuch'/);
  });

  it('a worker crash and a reload between two calls of one client never strand it', T, async () => {
    const fixture = await startHttpServer(['--name', 'fix']);
    const router = new Router({
      config: `mcp_servers:\n  fix:\n    transport: {type: http, url: "${fixture.url}"}\n`,
      workers: 2,
    });
    routers.push(router);
    await router.start();
    const client = await connect(router, '/mcp/fix');
    assert.equal(textOf(await bounded(client.callTool({ name: 'echo', arguments: { text: 'one' } }), 10000, 'one')), 'one');
    // Every worker crashes (the one this client's connection was on among them).
    const pids = JSON.parse(ctl(router, '--json', 'status')).workers.map((w) => w.pid);
    assert.equal(pids.length, 2);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor(() => {
      const now = JSON.parse(ctl(router, '--json', 'status')).workers;
      return now.length === 2 && now.every((w) => !pids.includes(w.pid) && w.state === 'ready');
    }, 20000, 'replacement workers serving', 100);
    // The same client (no session to lose) goes on.
    assert.equal(textOf(await bounded(client.callTool({ name: 'echo', arguments: { text: 'two' } }), 10000, 'two')), 'two');
    ctl(router, 'reload');
    assert.equal(textOf(await bounded(client.callTool({ name: 'echo', arguments: { text: 'three' } }), 10000, 'three')), 'three');
    const { tools } = await bounded(client.listTools(), 10000, 'list');
    assert.ok(tools.some((t) => t.name === 'echo'));
    await client.close();
  });

  it('with the cache off every list goes upstream', T, async () => {
    const { fixture, router } = await start('mcp:\n  cache: {enabled: false}\n');
    const client = await connect(router, '/mcp/fix');
    const before = await upstreamLists(fixture);
    await bounded(client.listTools(), 10000, 'list');
    await bounded(client.listTools(), 10000, 'list');
    assert.equal(await upstreamLists(fixture), before + 2);
    await client.close();
  });

  it('tools/call leaves one usage record each, and MCP metrics count every relayed request', T, async () => {
    const { router } = await start('');
    const client = await connect(router, '/mcp/fix');
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'one' } })), 'one');
    assert.equal((await client.callTool({ name: 'fail', arguments: {} })).isError, true);
    const agg = await connect(router, '/mcp');
    assert.equal(textOf(await agg.callTool({ name: 'fix__echo', arguments: { text: 'two' } })), 'two');
    await assert.rejects(agg.callTool({ name: 'nope__x', arguments: {} }), /Unknown tool/);
    await bounded(client.listTools(), 10000, 'list');

    let records = [];
    await waitFor(() => {
      records = JSON.parse(ctl(router, 'requests', '--json', '--limit', '50')).records
        .filter((r) => r.client_protocol === 'mcp');
      return records.length >= 4;
    }, 15000, 'four MCP usage records');
    assert.equal(records.length, 4, JSON.stringify(records));  // tools/list leaves none
    const byTool = Object.fromEntries(records.map((r) => [r.model_requested, r]));
    const echo = byTool.echo;
    assert.equal(echo.provider, 'fix');
    assert.equal(echo.upstream_model, 'echo');
    assert.equal(echo.final_status, 200);
    assert.equal(echo.attempts.length, 1);
    assert.equal(echo.attempts[0].failure ?? '', '');
    assert.ok(echo.bytes_in > 0 && echo.bytes_out > 0);
    assert.ok(echo.total_latency_us > 0);
    assert.equal(byTool.fail.attempts[0].failure, 'tool_error', 'isError is recorded');
    assert.equal(byTool.fix__echo.provider, 'fix');
    assert.equal(byTool.fix__echo.upstream_model, 'echo', 'the aggregate records the server and its own tool name');
    assert.equal(byTool.nope__x.attempts.length, 0, 'an unknown tool never reached a server');

    const metrics = await (await fetch(router.baseURL + '/metrics')).text();
    const count = (labels) => {
      const m = new RegExp(`^bitrouter_mcp_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(metrics);
      return m ? Number(m[1]) : 0;
    };
    assert.equal(count('server="fix",method="tools/call",outcome="ok"'), 2, metrics);
    assert.equal(count('server="fix",method="tools/call",outcome="tool_error"'), 1);
    assert.equal(count('server="aggregate",method="tools/call",outcome="refused"'), 1);
    assert.equal(count('server="fix",method="tools/list",outcome="ok"'), 1);
    assert.match(metrics, /^bitrouter_mcp_request_duration_seconds_count\{server="fix",method="tools\/call"\} 3$/m);
    await client.close();
    await agg.close();
  });

  it('the guardrails tool policy applies to an MCP server by its id', T, async () => {
    const { fixture, router } = await start(`guardrails:
  enabled: true
  tools:
    enabled: true
    providers:
      fix:
        filter:
          deny: [whoami, env]
        param_restrictions:
          rules:
            add:
              deny: [b]
              action: strip
            echo:
              deny: [text]
              action: block
`);
    for (const [p, prefix] of [['/mcp/fix', ''], ['/mcp', 'fix__']]) {
      const client = await connect(router, p);
      const { tools } = await bounded(client.listTools(), 10000, 'list');
      const names = tools.map((t) => t.name);
      assert.ok(!names.includes(prefix + 'whoami') && !names.includes(prefix + 'env'), names.join());
      assert.ok(names.includes(prefix + 'slow'));
      const add = tools.find((t) => t.name === prefix + 'add');
      assert.deepEqual(Object.keys(add.inputSchema.properties), ['a'], 'denied argument left the schema');
      assert.ok(!(add.inputSchema.required ?? []).includes('b'));
      // A denied tool answers exactly like an unknown one.
      const denied = await rawCall(router, p, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: prefix + 'whoami', arguments: {} } });
      if (p === '/mcp') {
        const unknown = await rawCall(router, p, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'nope__whoami', arguments: {} } });
        assert.deepEqual(denied.error, { ...unknown.error, message: unknown.error.message.replace('nope__', 'fix__') });
      } else {
        assert.equal(denied.error.code, -32602);
        assert.equal(denied.error.message, `Unknown tool: whoami`);
      }
      // A blocked argument refuses the call.
      const blocked = await rawCall(router, p, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: prefix + 'echo', arguments: { text: 'x' } } });
      assert.equal(blocked.error.code, -32602);
      assert.match(blocked.error.message, /may not be called with argument 'text'/);
      // A stripped argument never reaches the server (add without b fails its own validation).
      const before = (await fixture.stats()).callsByTool?.add ?? 0;
      const stripped = await rawCall(router, p, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: prefix + 'add', arguments: { a: 2, b: 40 } } });
      assert.notEqual(stripped.result?.content?.[0]?.text, '42', JSON.stringify(stripped));
      assert.equal((await fixture.stats()).callsByTool?.add ?? 0, before, 'the tool did not run with b');
      await client.close();
    }
    const metrics = await (await fetch(router.baseURL + '/metrics')).text();
    assert.match(metrics, /bitrouter_guardrail_matches_total\{pattern="tool_policy",direction="upgoing",action="block"\} [1-9]/);
    assert.match(metrics, /bitrouter_guardrail_matches_total\{pattern="tool_policy",direction="upgoing",action="redact"\} [1-9]/);
  });
});
