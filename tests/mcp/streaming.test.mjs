// Issue 17, item 7: a tools/call that takes time. The official MCP client
// (@modelcontextprotocol/sdk) against the real bitrouterd: progress relayed
// as it happens over an SSE answer, the per-server timeout (reset by
// progress) that cancels upstream and answers an error, keep-alive comments
// on a long silent call, and the client's own cancellation reaching the
// upstream server.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Router } from '../sdk/router.mjs';
import { bounded, cleanup, startHttpServer, textOf, waitFor } from './fixtures/harness.mjs';

const T = { timeout: 60000 };

const stats = (fixture) => fixture.stats();

async function connect(router, path) {
  const client = new Client({ name: 'streaming-test', version: '1.0.0' });
  await bounded(client.connect(new StreamableHTTPClientTransport(new URL(router.baseURL + path))), 10000, 'connect');
  return client;
}

describe('tools/call over time', () => {
  const routers = [];
  after(async () => {
    for (const r of routers) await r.stop();
    await cleanup();
  });

  async function start(fixtureArgs, serverExtra = '', gatewayExtra = '') {
    const fixture = await startHttpServer([...fixtureArgs, '--name', 'fix']);
    const router = new Router({
      config: `mcp_servers:\n  fix:\n    transport: {type: http, url: "${fixture.url}"}\n${serverExtra}${gatewayExtra}`,
    });
    routers.push(router);
    await router.start();
    return { fixture, router };
  }

  for (const mode of [[], ['--stateless']]) {
    it(`progress reaches the client while the tool runs (fixture ${mode.join(' ') || 'stateful'})`, T, async () => {
      const { fixture, router } = await start(mode);
      for (const path of ['/mcp/fix', '/mcp']) {
        const client = await connect(router, path);
        const seen = [];
        const sentWhenSeen = [];
        const name = path === '/mcp' ? 'fix__slow' : 'slow';
        const before = (await stats(fixture)).progressSent;
        const r = await bounded(client.callTool({ name, arguments: { ms: 3000, steps: 3 } }, undefined, {
          onprogress: (p) => {
            seen.push(p);
            if (seen.length === 1) sentWhenSeen.push(stats(fixture).then((s) => s.progressSent - before));
          },
        }), 20000, 'slow');
        assert.equal(textOf(r), 'done');
        assert.deepEqual(seen.map((p) => p.progress), [1, 2, 3], JSON.stringify(seen));
        assert.equal(seen[0].message, 'step 1 of 3');
        // Relayed as it happened, not batched at the end: when the client saw
        // the first one, the tool had not sent its last yet.
        assert.ok((await sentWhenSeen[0]) < 3, 'the first progress arrived only after the tool finished');
        await client.close();
      }
    });
  }

  it('the per-server timeout cancels upstream and answers an error naming the server', T, async () => {
    const { fixture, router } = await start([], '    timeout: 400ms\n');
    const client = await connect(router, '/mcp/fix');
    const before = (await stats(fixture)).cancelled;
    const started = Date.now();
    await assert.rejects(
      bounded(client.callTool({ name: 'slow', arguments: { ms: 5000, steps: 1 } }), 15000, 'slow'),
      (e) => {
        assert.equal(e.code, -32001, String(e));
        assert.match(e.message, /MCP server 'fix' failed: the server timed out/);
        return true;
      });
    const took = Date.now() - started;
    assert.ok(took >= 350, `answered after ${took} ms`);
    // notifications/cancelled reached the tool (it saw its abort signal).
    await waitFor(async () => (await stats(fixture)).cancelled === before + 1, 5000, 'upstream cancelled');
    await client.close();
  });

  it('progress resets the timeout: a long call that keeps reporting succeeds', T, async () => {
    // Steps of 250 ms, 4.5 s in all, under a 1.5 s timeout.
    const { router } = await start([], '    timeout: 1500ms\n');
    const client = await connect(router, '/mcp/fix');
    let progress = 0;
    const r = await bounded(client.callTool({ name: 'slow', arguments: { ms: 4500, steps: 18 } }, undefined, {
      onprogress: () => { progress += 1; },
    }), 20000, 'slow');
    assert.equal(textOf(r), 'done');
    assert.equal(progress, 18);
    await client.close();
  });

  it('a long silent call gets keep-alive comments, then its answer as the last event', T, async () => {
    const { router } = await start([], '', 'mcp:\n  keepalive: 150ms\n');
    const res = await fetch(router.baseURL + '/mcp/fix', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: { ms: 1800, steps: 1 } } }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    const body = await bounded(res.text(), 15000, 'body');
    assert.ok((body.match(/^: keep-alive$/gm) ?? []).length >= 2, body);
    const events = body.split('\n\n').filter((e) => e.startsWith('event: message'));
    assert.equal(events.length, 1, body);
    const msg = JSON.parse(events[0].split('\n').find((l) => l.startsWith('data: ')).slice(6));
    assert.equal(msg.id, 7);
    assert.equal(msg.result.content[0].text, 'done');
    // A quick call stays plain JSON.
    const quick = await fetch(router.baseURL + '/mcp/fix', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }),
    });
    assert.match(quick.headers.get('content-type'), /application\/json/);
    assert.equal((await quick.json()).result.content[0].text, 'x');
  });

  it("the client's cancellation reaches the upstream tool", T, async () => {
    const { fixture, router } = await start([]);
    const client = await connect(router, '/mcp/fix');
    const before = (await stats(fixture)).cancelled;
    const abort = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 10000, steps: 20 } }, undefined,
      { signal: abort.signal, onprogress: () => {} });
    await waitFor(async () => (await stats(fixture)).progressSent > 0, 5000, 'the tool runs');
    abort.abort('user stopped it');
    await assert.rejects(call);
    await waitFor(async () => (await stats(fixture)).cancelled === before + 1, 5000, 'upstream cancelled');
    // The gateway still serves this client.
    const r = await bounded(client.callTool({ name: 'echo', arguments: { text: 'after' } }), 10000, 'echo');
    assert.equal(textOf(r), 'after');
    await client.close();
  });

  it('a client that disconnects mid-call cancels the upstream call', T, async () => {
    const { fixture, router } = await start([]);
    const before = (await stats(fixture)).cancelled;
    const abort = new AbortController();
    const res = fetch(router.baseURL + '/mcp/fix', {
      method: 'POST',
      signal: abort.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms: 10000, steps: 1 } } }),
    }).catch(() => null);
    await waitFor(async () => (await stats(fixture)).callsByTool?.slow >= 1, 5000, 'the tool runs');
    abort.abort();
    await res;
    await waitFor(async () => (await stats(fixture)).cancelled === before + 1, 5000, 'upstream cancelled');
  });
});
