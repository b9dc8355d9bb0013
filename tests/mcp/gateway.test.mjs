// Issue 17: the official MCP client (@modelcontextprotocol/sdk) against the
// real bitrouterd's gateway. WIP: the transport layer and the local
// lifecycle; tools/* forwarding comes next.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Router } from '../sdk/router.mjs';
import { bounded, cleanup, startHttpServer, textOf } from './fixtures/harness.mjs';

const T = { timeout: 60000 };

describe('gateway', () => {
  const routers = [];
  after(async () => {
    for (const r of routers) await r.stop();
    await cleanup();
  });

  it('the official client connects statelessly and pings, on /mcp and /mcp/{id}', T, async () => {
    const fixture = await startHttpServer(['--stateless', '--name', 'fix']);
    const router = new Router({
      config: `mcp_servers:\n  fix:\n    transport: {type: http, url: "${fixture.url}"}\n`,
    });
    routers.push(router);
    await router.start();
    for (const path of ['/mcp', '/mcp/fix']) {
      const client = new Client({ name: 'gateway-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(router.baseURL + path));
      await bounded(client.connect(transport), 10000, `connect ${path}`);
      assert.equal(transport.sessionId, undefined, 'the gateway never issues a session');
      assert.equal(client.getServerVersion().name, 'bitrouter');
      await bounded(client.ping(), 5000, `ping ${path}`);
      await client.close();
    }
  });

  for (const mode of [['--stateless'], [], ['--json']]) {
    it(`/mcp/{id} forwards tools/list and tools/call (fixture ${mode.join(' ') || 'stateful, SSE'})`, T, async () => {
      const fixture = await startHttpServer([...mode, '--name', 'fix', '--require-auth', 'upstream-token']);
      const router = new Router({
        config: `mcp_servers:\n  fix:\n    transport:\n      type: http\n      url: "${fixture.url}"\n      headers: {Authorization: "Bearer upstream-token"}\n`,
      });
      routers.push(router);
      await router.start();
      const client = new Client({ name: 'gateway-test', version: '1.0.0' });
      await bounded(client.connect(new StreamableHTTPClientTransport(new URL(router.baseURL + '/mcp/fix'))), 10000, 'connect');
      const { tools } = await bounded(client.listTools(), 10000, 'listTools');
      assert.ok(tools.some((t) => t.name === 'echo'), JSON.stringify(tools.map((t) => t.name)));
      const r = await bounded(client.callTool({ name: 'echo', arguments: { text: 'hi there' } }), 10000, 'echo');
      assert.equal(textOf(r), 'hi there');
      const sum = await bounded(client.callTool({ name: 'add', arguments: { a: 2, b: 40 } }), 10000, 'add');
      assert.equal(textOf(sum), '42');
      const failed = await bounded(client.callTool({ name: 'fail', arguments: {} }), 10000, 'fail');
      assert.equal(failed.isError, true, 'a tool error is relayed as it is');
      // The upstream got the configured credential, never the caller's.
      const who = JSON.parse(textOf(await bounded(client.callTool({ name: 'whoami', arguments: {} }), 10000, 'whoami')));
      assert.equal(who.headers.authorization, 'Bearer upstream-token');
      // One upstream initialize for every call (stateful fixtures count them).
      const stats = await fixture.stats();
      if (!mode.includes('--stateless')) assert.equal(stats.http.initializes, 1, JSON.stringify(stats));
      await client.close();
    });
  }

  it('/mcp aggregates: prefixed names, sorted, routed back by prefix; a failing member is reported, not fatal', T, async () => {
    const a = await startHttpServer(['--stateless', '--name', 'a']);
    const b = await startHttpServer(['--name', 'b', '--tools', '3']);
    const bad = await startHttpServer(['--stateless', '--name', 'bad', '--fail-list']);
    const router = new Router({
      config: `mcp_servers:
  alpha:
    transport: {type: http, url: "${a.url}"}
    disallowed_tools: [crash]
  beta:
    transport: {type: http, url: "${b.url}"}
    tool_prefix: "b_"
  broken:
    transport: {type: http, url: "${bad.url}"}
  solo:
    transport: {type: http, url: "${a.url}"}
    aggregate: false
`,
    });
    routers.push(router);
    await router.start();
    const client = new Client({ name: 'gateway-test', version: '1.0.0' });
    await bounded(client.connect(new StreamableHTTPClientTransport(new URL(router.baseURL + '/mcp'))), 10000, 'connect');
    const listed = await bounded(client.listTools(), 10000, 'listTools');
    const names = listed.tools.map((t) => t.name);
    assert.deepEqual(names, [...names].sort(), 'sorted');
    assert.ok(names.includes('alpha__echo') && names.includes('b_echo') && names.includes('b_t0003'), names.join(','));
    assert.ok(!names.includes('alpha__crash'), 'disallowed_tools hides a tool');
    assert.ok(!names.some((n) => n.startsWith('solo__')), 'aggregate: false stays out');
    assert.deepEqual(listed._bitrouterErrors?.map((e) => e.server), ['broken'], JSON.stringify(listed._bitrouterErrors));
    const r = await bounded(client.callTool({ name: 'b_add', arguments: { a: 1, b: 2 } }), 10000, 'b_add');
    assert.equal(textOf(r), '3');
    const who = JSON.parse(textOf(await bounded(client.callTool({ name: 'alpha__whoami', arguments: {} }), 10000, 'whoami')));
    assert.equal(who.name, 'a');
    await assert.rejects(client.callTool({ name: 'alpha__crash', arguments: {} }), /Unknown tool/);
    await assert.rejects(client.callTool({ name: 'nobody__echo', arguments: {} }), /Unknown tool/);
    await client.close();
  });
});
