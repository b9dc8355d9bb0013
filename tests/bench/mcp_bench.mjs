// Issue 17's MCP performance targets, measured (not asserted):
//   1. gateway overhead of a tools/call to a local HTTP MCP server, p50 and
//      p99, over calling that server directly (targets: <= 1 ms, <= 5 ms);
//   2. a cached aggregate tools/list of 1,000 tools (target: <= 5 ms).
// Usage: BITROUTER_BIN_DIR=build/bin node tests/bench/mcp_bench.mjs [calls]
// (run from the repo root; tests/mcp/node_modules must be installed).
// Sequential requests over one keep-alive connection each way, interleaved
// direct / gateway so that drift hits both alike.
import { Router } from '../sdk/router.mjs';
import { cleanup, startHttpServer } from '../mcp/fixtures/harness.mjs';

const calls = Number(process.argv[2] ?? 2000);
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

// us: until the whole body was read; head_us: until the response head
// arrived (the router writes head and body of a JSON answer at once, so
// this is its own time plus one loopback hop, without the client's reading).
async function post(url, body, extra = {}) {
  const t0 = process.hrtime.bigint();
  const r = await fetch(url, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) });
  const head_us = Number(process.hrtime.bigint() - t0) / 1000;
  const text = await r.text();
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return { us, head_us, text };
}

function pct(a, p) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const fixture = await startHttpServer(['--json', '--name', 'bench', '--tools', '1000']);
const router = new Router({
  config: `mcp_servers:\n  bench:\n    transport: {type: http, url: "${fixture.url}"}\n    timeout: 30s\n`,
});
await router.start();
try {
  // Direct: the fixture is stateful (one session, as the gateway uses it).
  const init = await fetch(fixture.url, {
    method: 'POST', headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
  });
  const session = init.headers.get('mcp-session-id');
  await init.text();
  const sh = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
  await post(fixture.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, sh).catch(() => {});
  const call = (id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'bench' } } });
  const gw = router.baseURL + '/mcp/bench';
  for (let i = 0; i < 200; i++) { await post(fixture.url, call(i), sh); await post(gw, call(i)); }  // warm-up
  const direct = [], via = [];
  for (let i = 0; i < calls; i++) {
    direct.push((await post(fixture.url, call(i), sh)).us);
    via.push((await post(gw, call(i))).us);
  }
  const d50 = pct(direct, 50), d99 = pct(direct, 99), g50 = pct(via, 50), g99 = pct(via, 99);
  console.log(`tools/call x${calls}: direct p50 ${(d50 / 1000).toFixed(3)} ms p99 ${(d99 / 1000).toFixed(3)} ms; ` +
    `gateway p50 ${(g50 / 1000).toFixed(3)} ms p99 ${(g99 / 1000).toFixed(3)} ms; ` +
    `overhead p50 ${((g50 - d50) / 1000).toFixed(3)} ms p99 ${((g99 - d99) / 1000).toFixed(3)} ms`);

  // Aggregate tools/list of 1,000 tools (plus the fixture's own), cached.
  const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
  const first = await post(router.baseURL + '/mcp', list);
  const n = JSON.parse(first.text).result.tools.length;
  const cached = [], heads = [];
  for (let i = 0; i < 300; i++) {
    const r = await post(router.baseURL + '/mcp', list);
    cached.push(r.us);
    heads.push(r.head_us);
  }
  const ms = (us) => (us / 1000).toFixed(3);
  console.log(`aggregate tools/list (${n} tools, ${first.text.length} bytes): first (uncached) ${ms(first.us)} ms; ` +
    `cached: to the head p50 ${ms(pct(heads, 50))} ms p99 ${ms(pct(heads, 99))} ms, ` +
    `body read p50 ${ms(pct(cached, 50))} ms p99 ${ms(pct(cached, 99))} ms`);
} finally {
  await router.stop();
  await cleanup();
}
