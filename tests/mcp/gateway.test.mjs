// Issue 17: the official MCP client (@modelcontextprotocol/sdk) against the
// real bitrouterd's gateway. WIP: the transport layer and the local
// lifecycle; tools/* forwarding comes next.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Router } from '../sdk/router.mjs';
import { bounded, cleanup, startHttpServer } from './fixtures/harness.mjs';

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
});
