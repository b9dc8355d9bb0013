// Issue 18 item 6: real agent harnesses through the real router. Claude Code
// (Anthropic Messages client) and the Codex CLI (OpenAI Responses client),
// each asked one prompt, non-interactively, through bitrouterd +
// bitrouter-worker to a fake upstream of each protocol: 2 x 4 cases.
//
// Every request for a case's upstream model is answered, in that protocol's
// wire shape (streamed when the harness streams), with the case's marker as
// plain text and no tool call, so the harness runs no tool and its printed
// answer must be exactly the marker. The marker is not in the prompt and
// carries a per-run nonce, so only the upstream's answer, carried back
// through the router's translation, can produce it.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startFakeUpstream } from '../sdk/fake_upstream.mjs';
import { Router, configYaml } from '../sdk/router.mjs';
import { PROTOCOLS, RUN_TIMEOUT_MS, routesYaml, runClaude, runCodex, startTrapProxy } from './agents.mjs';

const PROMPT = 'Reply with the marker text you were given, and nothing else.';
const NONCE = crypto.randomBytes(4).toString('hex');

const HARNESSES = [
  { name: 'Claude Code', slug: 'claude', run: runClaude },
  { name: 'Codex', slug: 'codex', run: runCodex },
];

const CASES = [];
for (const h of HARNESSES) {
  for (const p of PROTOCOLS) {
    const slug = `${h.slug}-${p.name.toLowerCase()}`;
    CASES.push({
      harness: h,
      protocol: p,
      route: `agent-${slug}`,
      upstreamModel: `up-${slug}`,
      marker: `BR-AGENT ${slug} ${NONCE}: the ${p.name} upstream says hello → ok`,
    });
  }
}

const ctx = { upstream: null, router: null, trap: null };

before(async () => {
  ctx.trap = await startTrapProxy();
  ctx.upstream = await startFakeUpstream();
  for (const c of CASES) ctx.upstream.fixedText(c.upstreamModel, c.marker);
  ctx.router = new Router({ config: configYaml(ctx.upstream.port) + routesYaml(CASES) });
  await ctx.router.start();
}, { timeout: 30000 });

after(async () => {
  if (ctx.router) await ctx.router.stop();
  if (ctx.upstream) await ctx.upstream.close();
  if (ctx.trap) await ctx.trap.close();
}, { timeout: 30000 });

function summarize(rec) {
  return `${rec.method} ${rec.path}${rec.query} model=${rec.model}\n  body: ${rec.raw.slice(0, 1500)}`;
}

for (const h of HARNESSES) {
  describe(h.name, () => {
    for (const c of CASES.filter((x) => x.harness === h)) {
      test(`${h.name} -> ${c.protocol.name} upstream (${c.protocol.provider})`, { timeout: RUN_TIMEOUT_MS + 15000 }, async () => {
        if (!ctx.router) throw new Error('router did not start (see the before hook failure)');
        const logFrom = ctx.router.logSize();
        const reqMark = ctx.upstream.requests.length;
        const rejMark = ctx.upstream.rejections.length;
        const trapMark = ctx.trap.hits.length;
        const r = await h.run({ routerURL: ctx.router.baseURL, model: c.route, prompt: PROMPT, trapURL: ctx.trap.url });
        const seen = ctx.upstream.since(reqMark);
        const context = () =>
          `\n--- ${h.name} exit code=${r.code} signal=${r.signal} timedOut=${r.timedOut} in ${r.ms} ms` +
          `\n--- stdout:\n${r.stdout.slice(-3000)}\n--- stderr:\n${r.stderr.slice(-3000)}` +
          `\n--- upstream requests:\n${seen.map(summarize).join('\n') || '(none)'}` +
          `\n--- upstream rejections:\n${ctx.upstream.rejections.slice(rejMark).map((x) => `${x.status} ${x.path}: ${x.message}`).join('\n') || '(none)'}` +
          `\n--- bitrouterd log:\n${ctx.router.log(logFrom).split('\n').slice(-40).join('\n') || '(empty)'}`;
        assert.equal(r.timedOut, false, `${h.name} did not finish within ${RUN_TIMEOUT_MS} ms${context()}`);
        assert.equal(r.error, undefined, `${h.name} did not start: ${r.error}${context()}`);
        assert.equal(r.code, 0, `${h.name} failed${context()}`);
        assert.equal(r.stdout.trim(), c.marker, `${h.name} did not print the upstream's answer${context()}`);
        // The answer came from this case's upstream, in its protocol, and
        // everything the router sent upstream was valid for that protocol.
        assert.ok(seen.length > 0, `no request reached the upstream${context()}`);
        for (const rec of seen) {
          assert.ok(c.protocol.path.test(rec.path),
            `request to ${rec.path}, not the ${c.protocol.name} endpoint${context()}`);
          assert.equal(rec.model, c.upstreamModel, `request for another upstream model${context()}`);
        }
        assert.deepEqual(ctx.upstream.rejections.slice(rejMark), [], `the upstream rejected a request${context()}`);
        assert.deepEqual(ctx.trap.hits.slice(trapMark), [], `${h.name} tried to reach beyond 127.0.0.1${context()}`);
      });
    }
  });
}
