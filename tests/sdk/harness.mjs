// Shared set-up for the *.test.mjs files: one fake upstream and one real
// bitrouterd per test file, SDK clients pointed at the router, and a test
// wrapper that bounds each test in time and, when it fails, appends what the
// router logged and what reached the upstream during that test.

import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream } from './fake_upstream.mjs';
import { Router, configYaml } from './router.mjs';

export const CLIENT_KEY = 'client-key';
export const OAI_MODEL = 'fakeoai:gpt-test';
export const ANT_MODEL = 'fakeant:claude-test';
export const RESP_MODEL = 'fakeresp:gpt-resp-test';
export const GEM_MODEL = 'fakegem:gemini-test';
export const TEST_TIMEOUT_MS = 30000;
const CLIENT_TIMEOUT_MS = 15000;

// Starts the fake upstream and the router before the file's tests and stops
// both after them (also when a test failed). Returns a context whose fields
// are filled in by the time the tests run. `config(port)` writes the
// router's bitrouter.yaml for the fake upstream's port (router.mjs's
// configYaml unless a file needs more, e.g. catalogs or virtual models).
export function setupRouter({ config = configYaml } = {}) {
  const ctx = { upstream: null, router: null };
  before(async () => {
    ctx.upstream = await startFakeUpstream();
    ctx.router = new Router({ config: config(ctx.upstream.port) });
    try {
      await ctx.router.start();
    } catch (e) {
      await ctx.upstream.close();
      ctx.upstream = null;
      throw e;
    }
  }, { timeout: 30000 });
  after(async () => {
    if (ctx.router) await ctx.router.stop();
    if (ctx.upstream) await ctx.upstream.close();
  }, { timeout: 30000 });
  ctx.openai = (opts = {}) =>
    new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${ctx.router.baseURL}/v1`, maxRetries: 0, timeout: CLIENT_TIMEOUT_MS, ...opts });
  ctx.anthropic = (opts = {}) =>
    new Anthropic({ apiKey: CLIENT_KEY, baseURL: ctx.router.baseURL, maxRetries: 0, timeout: CLIENT_TIMEOUT_MS, ...opts });
  return ctx;
}

function summarize(rec) {
  const headers = Object.fromEntries(
    Object.entries(rec.headers).filter(([k]) => !['host', 'connection', 'content-length', 'accept-encoding'].includes(k)),
  );
  return `${rec.method} ${rec.path}${rec.query}\n  headers: ${JSON.stringify(headers)}\n  body: ${rec.raw.slice(0, 2000)}`;
}

// node:test's test() with a time bound, and on failure the router log lines
// and upstream traffic of this test appended to the error message.
export function rtest(ctx, name, fn, { timeout = TEST_TIMEOUT_MS } = {}) {
  test(name, { timeout }, async (t) => {
    if (!ctx.router) throw new Error('router did not start (see the before hook failure)');
    const logFrom = ctx.router.logSize();
    const reqMark = ctx.upstream.requests.length;
    const rejMark = ctx.upstream.rejections.length;
    try {
      await fn(t);
    } catch (e) {
      const seen = ctx.upstream.since(reqMark).map(summarize).join('\n') || '(none)';
      const rejected = ctx.upstream.rejections.slice(rejMark).map((r) => `${r.status} ${r.path}: ${r.message}`).join('\n') || '(none)';
      const log = ctx.router.log(logFrom).split('\n').slice(-40).join('\n') || '(empty)';
      const extra =
        `\n--- upstream requests during this test:\n${seen}` +
        `\n--- upstream rejections:\n${rejected}` +
        `\n--- bitrouterd log during this test:\n${log}` +
        (e && e.status ? `\n--- client saw HTTP ${e.status}: ${JSON.stringify(e.error ?? null)}` : '') +
        // The AI SDK's APICallError (elizaos.test.mjs).
        (e && e.statusCode ? `\n--- client saw HTTP ${e.statusCode}: ${e.responseBody ?? ''}` : '');
      if (e instanceof Error) {
        // Reporters print the message (TAP) or the stack (spec), which was
        // rendered when the error was made: extend both.
        e.message += extra;
        if (typeof e.stack === 'string') e.stack += extra;
        throw e;
      }
      throw new Error(String(e) + extra);
    }
  });
}

// Asserts that the client's credential reached the upstream in no header and
// nowhere in the body.
export function assertNoClientKey(assert, rec) {
  assert.ok(rec, 'no request reached the upstream');
  for (const [k, v] of Object.entries(rec.headers)) {
    assert.ok(!String(v).includes(CLIENT_KEY), `client key leaked upstream in header ${k}: ${v}`);
  }
  assert.ok(!rec.raw.includes(CLIENT_KEY), 'client key leaked upstream in the body');
  assert.ok(!rec.query.includes(CLIENT_KEY), 'client key leaked upstream in the query');
}

// Reads an SSE response body: returns [{event, data}] with data JSON-parsed
// where it parses (the raw string otherwise).
export async function readSSE(response) {
  const text = await response.text();
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    let event = null;
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (!data.length) continue;
    const joined = data.join('\n');
    let parsed = joined;
    try {
      parsed = JSON.parse(joined);
    } catch {}
    events.push({ event, data: parsed });
  }
  return { text, events };
}
