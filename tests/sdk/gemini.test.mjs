// Gemini generateContent / streamGenerateContent over plain fetch (the wire
// shape Google's SDKs and curl use) against the real router, translated to
// an OpenAI Chat upstream (fakeoai) and an Anthropic upstream (fakeant).

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { FAIL_MESSAGE, TOOL_ARGS, USAGE, UPSTREAM_KEYS } from './fake_upstream.mjs';
import { CLIENT_KEY, assertNoClientKey, readSSE, rtest, setupRouter } from './harness.mjs';

const ctx = setupRouter();
const FETCH_TIMEOUT_MS = 15000;

const TARGETS = [
  { name: 'fakeoai (Gemini -> Chat)', model: 'fakeoai:gpt-test', upstreamPath: '/v1/chat/completions', who: 'fake-openai' },
  { name: 'fakeant (Gemini -> Messages)', model: 'fakeant:claude-test', upstreamPath: '/v1/messages', who: 'fake-anthropic' },
];

const WEATHER_DECL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city'],
  },
};

function url(method, model, query = '') {
  return `${ctx.router.baseURL}/v1beta/models/${model}:${method}${query}`;
}

async function post(u, body, headers = {}) {
  return fetch(u, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
}

async function json(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    assert.fail(`HTTP ${res.status}, body is not JSON: ${text.slice(0, 500)}`);
  }
}

function request(text) {
  return {
    systemInstruction: { parts: [{ text: 'You are terse.' }] },
    contents: [{ role: 'user', parts: [{ text }] }],
    generationConfig: { maxOutputTokens: 100, temperature: 0.5 },
  };
}

function partsText(parts) {
  return (parts ?? []).map((p) => p.text ?? '').join('');
}

function contentText(content) {
  if (typeof content === 'string') return content;
  return (content ?? []).map((p) => p.text ?? '').join('');
}

function assertUpstream(target, rec, input) {
  assert.ok(rec, `nothing reached ${target.upstreamPath}`);
  assertNoClientKey(assert, rec);
  assert.equal(rec.headers['x-goog-api-key'], undefined, 'x-goog-api-key forwarded upstream');
  const b = rec.body;
  if (target.upstreamPath === '/v1/chat/completions') {
    assert.equal(rec.headers['authorization'], `Bearer ${UPSTREAM_KEYS.openai}`);
    assert.equal(b.model, 'gpt-test');
    assert.ok(['system', 'developer'].includes(b.messages[0].role), `systemInstruction not a system message: ${JSON.stringify(b.messages)}`);
    assert.equal(contentText(b.messages[0].content), 'You are terse.');
    assert.equal(b.messages.at(-1).role, 'user');
    assert.equal(contentText(b.messages.at(-1).content), input);
    assert.equal(b.max_tokens ?? b.max_completion_tokens, 100);
    assert.equal(b.temperature, 0.5);
  } else {
    assert.equal(rec.headers['x-api-key'], UPSTREAM_KEYS.anthropic);
    assert.equal(rec.headers['anthropic-version'], '2023-06-01');
    assert.equal(b.model, 'claude-test');
    assert.equal(typeof b.system === 'string' ? b.system : contentText(b.system), 'You are terse.');
    assert.equal(contentText(b.messages.at(-1).content), input);
    assert.equal(b.max_tokens, 100);
    assert.equal(b.temperature, 0.5);
  }
}

function assertGeminiAnswer(body, text) {
  assert.ok(Array.isArray(body.candidates) && body.candidates.length === 1, `no candidates: ${JSON.stringify(body)}`);
  const c = body.candidates[0];
  assert.equal(c.content.role, 'model');
  assert.equal(partsText(c.content.parts), text);
  assert.equal(c.finishReason, 'STOP');
  assert.equal(body.usageMetadata?.promptTokenCount, USAGE.in);
  assert.equal(body.usageMetadata?.candidatesTokenCount, USAGE.out);
  assert.equal(body.usageMetadata?.totalTokenCount, USAGE.in + USAGE.out);
}

for (const target of TARGETS) {
  describe(`gemini over fetch -> ${target.name}`, () => {
    rtest(ctx, 'generateContent with x-goog-api-key', async () => {
      const res = await post(url('generateContent', target.model), request('Say hi'), { 'x-goog-api-key': CLIENT_KEY });
      const body = await json(res);
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assertGeminiAnswer(body, `Hello from ${target.who}! You said: Say hi`);
      const rec = ctx.upstream.last(target.upstreamPath);
      assertUpstream(target, rec, 'Say hi');
      assert.ok(!rec.body.stream, 'non-stream request sent upstream as a stream');
    });

    rtest(ctx, 'generateContent with ?key=', async () => {
      const res = await post(url('generateContent', target.model, `?key=${CLIENT_KEY}`), request('Key in query'));
      const body = await json(res);
      assert.equal(res.status, 200, JSON.stringify(body));
      assertGeminiAnswer(body, `Hello from ${target.who}! You said: Key in query`);
      const rec = ctx.upstream.last(target.upstreamPath);
      assertUpstream(target, rec, 'Key in query');
      assert.equal(rec.query, '', `client query string forwarded upstream: ${rec.query}`);
    });

    rtest(ctx, 'streamGenerateContent?alt=sse', async () => {
      const res = await post(url('streamGenerateContent', target.model, '?alt=sse'), request('Stream please'), {
        'x-goog-api-key': CLIENT_KEY,
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const { text, events } = await readSSE(res);
      assert.ok(events.length >= 2, `expected several data: chunks, got: ${text.slice(0, 800)}`);
      let joined = '';
      for (const e of events) {
        assert.equal(typeof e.data, 'object', `data: line is not JSON: ${e.data}`);
        assert.ok(Array.isArray(e.data.candidates), `chunk without candidates: ${JSON.stringify(e.data)}`);
        for (const c of e.data.candidates) {
          if (c.content) {
            assert.equal(c.content.role, 'model');
            joined += partsText(c.content.parts);
          }
        }
      }
      assert.ok(!text.includes('[DONE]'), 'Gemini streams have no [DONE] sentinel');
      assert.equal(joined, `Hello from ${target.who}! You said: Stream please`);
      const last = events.at(-1).data;
      assert.equal(last.candidates[0].finishReason, 'STOP');
      assert.equal(last.usageMetadata?.promptTokenCount, USAGE.in);
      assert.equal(last.usageMetadata?.candidatesTokenCount, USAGE.out);
      const rec = ctx.upstream.last(target.upstreamPath);
      assertUpstream(target, rec, 'Stream please');
      assert.equal(rec.body.stream, true);
    });

    rtest(ctx, 'functionCall round trip', async () => {
      const contents = [{ role: 'user', parts: [{ text: 'What is the weather in Paris?' }] }];
      const tools = [{ functionDeclarations: [WEATHER_DECL] }];
      const res1 = await post(url('generateContent', target.model), { contents, tools }, { 'x-goog-api-key': CLIENT_KEY });
      const body1 = await json(res1);
      assert.equal(res1.status, 200, JSON.stringify(body1));
      const modelTurn = body1.candidates[0].content;
      const fc = modelTurn.parts.find((p) => p.functionCall)?.functionCall;
      assert.ok(fc, `no functionCall part: ${JSON.stringify(modelTurn)}`);
      assert.equal(fc.name, 'get_weather');
      assert.deepEqual(fc.args, TOOL_ARGS);
      const up1 = ctx.upstream.last(target.upstreamPath);
      if (target.upstreamPath === '/v1/chat/completions') {
        assert.equal(up1.body.tools[0].function.name, 'get_weather');
        assert.deepEqual(up1.body.tools[0].function.parameters, WEATHER_DECL.parameters);
      } else {
        assert.equal(up1.body.tools[0].name, 'get_weather');
        assert.deepEqual(up1.body.tools[0].input_schema, WEATHER_DECL.parameters);
      }

      contents.push(modelTurn);
      contents.push({
        role: 'user',
        parts: [{ functionResponse: { ...(fc.id ? { id: fc.id } : {}), name: 'get_weather', response: { result: 'sunny, 21C' } } }],
      });
      const res2 = await post(url('generateContent', target.model), { contents, tools }, { 'x-goog-api-key': CLIENT_KEY });
      const body2 = await json(res2);
      assert.equal(res2.status, 200, JSON.stringify(body2));
      const answer = partsText(body2.candidates[0].content.parts);
      assert.ok(answer.startsWith('Weather in Paris: ') && answer.includes('sunny, 21C'), `final answer: ${answer}`);
    });

    rtest(ctx, 'upstream 400 arrives in Gemini error shape', async () => {
      const model = target.model.replace(/:.*/, ':fail-400');
      const res = await post(url('generateContent', model), request('boom'), { 'x-goog-api-key': CLIENT_KEY });
      const body = await json(res);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.error?.code, 400, `not a Gemini error body: ${JSON.stringify(body)}`);
      assert.equal(body.error?.status, 'INVALID_ARGUMENT');
      assert.ok(body.error?.message?.includes(FAIL_MESSAGE), `message lost: ${JSON.stringify(body)}`);
    });
  });
}
