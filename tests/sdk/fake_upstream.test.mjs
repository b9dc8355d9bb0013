// Self-check of the fake upstream: the real SDKs talk to it directly (no
// router), so every shape the router tests rely on is known to satisfy the
// official clients. When a router test fails and this file passes, the fault
// is in the router, not in the fake.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { COUNT_TOKENS, FAIL_MESSAGE, TOOL_ARGS, USAGE, UPSTREAM_KEYS, startFakeUpstream } from './fake_upstream.mjs';
import { readSSE } from './harness.mjs';
import * as tr from './transcripts.mjs';

let up;
before(async () => {
  up = await startFakeUpstream();
});
after(async () => {
  await up?.close();
});

const T = { timeout: 15000 };
const oai = () => new OpenAI({ apiKey: UPSTREAM_KEYS.openai, baseURL: `http://127.0.0.1:${up.port}/v1`, maxRetries: 0, timeout: 10000 });
const ant = () =>
  new Anthropic({
    apiKey: UPSTREAM_KEYS.anthropic,
    baseURL: `http://127.0.0.1:${up.port}`,
    defaultHeaders: { 'x-api-key': UPSTREAM_KEYS.anthropic, 'anthropic-version': '2023-06-01' },
    maxRetries: 0,
    timeout: 10000,
  });

describe('fake Chat Completions upstream', () => {
  test('JSON', T, async () => {
    const c = await oai().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(c.choices[0].message.content, 'Hello from fake-openai! You said: hi');
    assert.equal(c.usage.prompt_tokens, USAGE.in);
  });
  test('SSE with usage and [DONE]', T, async () => {
    const s = await oai().chat.completions.create({
      model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let usage;
    for await (const ch of s) {
      text += ch.choices[0]?.delta?.content ?? '';
      usage = ch.usage ?? usage;
    }
    assert.equal(text, 'Hello from fake-openai! You said: hi');
    assert.equal(usage.completion_tokens, USAGE.out);
    assert.match(up.last('/v1/chat/completions').body.stream_options ? 'ok' : '', /ok/);
  });
  test('streamed tool call', T, async () => {
    const r = oai().chat.completions.stream({
      model: 'gpt-test', messages: [{ role: 'user', content: 'w' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    });
    const f = await r.finalChatCompletion();
    assert.deepEqual(JSON.parse(f.choices[0].message.tool_calls[0].function.arguments), TOOL_ARGS);
  });
  test('error', T, async () => {
    await assert.rejects(oai().chat.completions.create({ model: 'fail-400', messages: [{ role: 'user', content: 'x' }] }), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError);
      assert.ok(e.message.includes(FAIL_MESSAGE));
      return true;
    });
  });
  test('rejects a wrong key', T, async () => {
    const c = new OpenAI({ apiKey: 'client-key', baseURL: `http://127.0.0.1:${up.port}/v1`, maxRetries: 0 });
    await assert.rejects(c.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }), OpenAI.AuthenticationError);
  });
});

describe('fake Messages upstream', () => {
  test('JSON', T, async () => {
    const m = await ant().messages.create({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(m.content[0].text, 'Hello from fake-anthropic! You said: hi');
    assert.equal(m.usage.output_tokens, USAGE.out);
  });
  test('SSE lifecycle, text events, finalMessage', T, async () => {
    const s = ant().messages.stream({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const texts = [];
    s.on('text', (t) => texts.push(t));
    const m = await s.finalMessage();
    assert.equal(texts.join(''), 'Hello from fake-anthropic! You said: hi');
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal(m.usage.input_tokens, USAGE.in);
    assert.equal(m.usage.output_tokens, USAGE.out);
  });
  test('tool_use via input_json_delta, then tool_result', T, async () => {
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' } }];
    const messages = [{ role: 'user', content: 'w' }];
    const s = ant().messages.stream({ model: 'claude-test', max_tokens: 10, tools, messages });
    const m = await s.finalMessage();
    const use = m.content.find((b) => b.type === 'tool_use');
    assert.deepEqual(use.input, TOOL_ARGS);
    messages.push({ role: 'assistant', content: m.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] });
    const m2 = await ant().messages.create({ model: 'claude-test', max_tokens: 10, tools, messages });
    assert.equal(m2.content[0].text, 'Weather in Paris: sunny');
  });
  test('count_tokens', T, async () => {
    const r = await ant().messages.countTokens({ model: 'claude-test', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.input_tokens, COUNT_TOKENS);
  });
  test('error', T, async () => {
    await assert.rejects(ant().messages.create({ model: 'fail-400', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (e) => {
      assert.ok(e instanceof Anthropic.BadRequestError);
      assert.ok(e.message.includes(FAIL_MESSAGE));
      return true;
    });
  });
  test('rejects a request without max_tokens', T, async () => {
    const res = await fetch(`http://127.0.0.1:${up.port}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': UPSTREAM_KEYS.anthropic, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-test', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).type, 'error');
  });
});

describe('fake Responses upstream', () => {
  test('JSON', T, async () => {
    const r = await oai().responses.create({ model: 'gpt-resp-test', input: 'hi' });
    assert.equal(r.output_text, 'Hello from fake-responses! You said: hi');
    assert.equal(r.usage.total_tokens, USAGE.in + USAGE.out);
  });
  test('SSE + finalResponse', T, async () => {
    const s = oai().responses.stream({ model: 'gpt-resp-test', input: 'hi' });
    const d = [];
    s.on('response.output_text.delta', (e) => d.push(e.delta));
    const r = await s.finalResponse();
    assert.equal(d.join(''), 'Hello from fake-responses! You said: hi');
    assert.equal(r.output_text, 'Hello from fake-responses! You said: hi');
  });
  test('streamed function call, then function_call_output', T, async () => {
    const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object' }, strict: false }];
    const s = oai().responses.stream({ model: 'gpt-resp-test', input: 'w', tools });
    const r = await s.finalResponse();
    const call = r.output.find((o) => o.type === 'function_call');
    assert.deepEqual(JSON.parse(call.arguments), TOOL_ARGS);
    const r2 = await oai().responses.create({
      model: 'gpt-resp-test',
      input: [{ role: 'user', content: 'w' }, ...r.output, { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
      tools,
    });
    assert.equal(r2.output_text, 'Weather in Paris: sunny');
  });
  test('error', T, async () => {
    await assert.rejects(oai().responses.create({ model: 'fail-400', input: 'x' }), OpenAI.BadRequestError);
  });
});

describe('fake Gemini upstream', () => {
  const gem = (method, model, body, { key = UPSTREAM_KEYS.google, query = '' } = {}) =>
    fetch(`http://127.0.0.1:${up.port}/v1/models/${model}:${method}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10000),
    });
  const hi = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
  test('generateContent JSON', T, async () => {
    const r = await gem('generateContent', 'gemini-test', hi);
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.equal(b.candidates[0].content.parts[0].text, 'Hello from fake-gemini! You said: hi');
    assert.equal(b.usageMetadata.totalTokenCount, USAGE.in + USAGE.out);
  });
  test('streamGenerateContent SSE', T, async () => {
    const r = await gem('streamGenerateContent', 'gemini-test', hi, { query: '?alt=sse' });
    const { events } = await readSSE(r);
    assert.equal(events.map((e) => e.data.candidates[0].content.parts[0].text).join(''), 'Hello from fake-gemini! You said: hi');
    assert.equal(events.at(-1).data.candidates[0].finishReason, 'STOP');
  });
  test('a wrong key is a 401 in the Gemini error shape', T, async () => {
    const r = await gem('generateContent', 'gemini-test', hi, { key: 'nope' });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error.status, 'UNAUTHENTICATED');
  });
});

// The scripted transcripts of fidelity.test.mjs, straight into the SDKs: the
// official clients accept each of them, so a fidelity failure is the router's.
describe('scripted replies and the fidelity transcripts', () => {
  let n = 0;
  const model = (tag) => `scripted-self-${tag}-${++n}`;

  test('replies are served verbatim, in order; an exhausted scripted model is a 500', T, async () => {
    const m = model('order');
    up.script(m, tr.chatJSON(m, { content: 'one' }, 'stop'), { sse: ['data: {"raw":1}\n\n', { event: 'x', data: { a: 2 } }] });
    const c = await oai().chat.completions.create({ model: m, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(c.choices[0].message.content, 'one');
    const r = await fetch(`http://127.0.0.1:${up.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${UPSTREAM_KEYS.openai}` },
      body: JSON.stringify({ model: m, messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    assert.equal(await r.text(), 'data: {"raw":1}\n\nevent: x\ndata: {"a":2}\n\n');
    assert.equal(up.pending(m), 0);
    await assert.rejects(oai().chat.completions.create({ model: m, messages: [{ role: 'user', content: 'hi' }] }), OpenAI.InternalServerError);
  });

  test('1. interleaved tool calls -> finalChatCompletion()', T, async () => {
    const m = model('interleave');
    up.script(m, tr.interleavedToolCalls(m));
    const c = await oai().chat.completions.stream({ model: m, messages: [{ role: 'user', content: 'x' }], tools: tr.chatTools() }).finalChatCompletion();
    const calls = c.choices[0].message.tool_calls;
    assert.deepEqual(calls.map((t) => ({ name: t.function.name, input: JSON.parse(t.function.arguments) })), tr.INTERLEAVED);
  });

  test('2. empty tool inputs -> finalMessage()', T, async () => {
    const m = model('empty');
    up.script(m, tr.emptyToolInputs(m));
    const msg = await ant().messages.stream({ model: m, max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tools: tr.antTools() }).finalMessage();
    assert.deepEqual(msg.content.map((b) => [b.type, b.input]), [['tool_use', {}], ['tool_use', {}]]);
  });

  test('3. tool calls closed by stop -> finalChatCompletion()', T, async () => {
    const m = model('stop');
    up.script(m, tr.toolCallsThenStop(m));
    const c = await oai().chat.completions.stream({ model: m, messages: [{ role: 'user', content: 'x' }], tools: tr.chatTools() }).finalChatCompletion();
    assert.equal(c.choices[0].finish_reason, 'stop');
    assert.deepEqual(JSON.parse(c.choices[0].message.tool_calls[0].function.arguments), { city: 'Paris' });
  });

  test('7. web_search_call -> finalResponse() and responses.create', T, async () => {
    const m = model('ws-resp');
    up.script(m, tr.webSearchResponses(m, { stream: true }), tr.webSearchResponses(m, { stream: false }));
    const r = await oai().responses.stream({ model: m, input: 'x' }).finalResponse();
    assert.deepEqual(r.output.map((o) => [o.type, o.status]), [['web_search_call', 'completed'], ['message', 'completed']]);
    assert.equal(r.output_text, tr.WS_TEXT);
    assert.equal(r.output[1].content[0].annotations.length, 1);
    const j = await oai().responses.create({ model: m, input: 'x' });
    assert.equal(j.output_text, tr.WS_TEXT);
  });

  test('7. server_tool_use + web_search_tool_result -> finalMessage() and messages.create', T, async () => {
    const m = model('ws-msg');
    up.script(m, tr.webSearchMessages(m, { stream: true }), tr.webSearchMessages(m, { stream: false }));
    for (const msg of [
      await ant().messages.stream({ model: m, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).finalMessage(),
      await ant().messages.create({ model: m, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    ]) {
      assert.deepEqual(msg.content.map((b) => b.type), ['server_tool_use', 'web_search_tool_result', 'text']);
      assert.deepEqual(msg.content[0].input, { query: tr.WS_QUERY });
      assert.equal(msg.content[2].text, tr.WS_TEXT);
      assert.equal(msg.content[2].citations.length, 1);
      assert.equal(msg.usage.server_tool_use.web_search_requests, 1);
    }
  });

  test('8. error events: the SDKs throw (Messages, Chat) or report failed (Responses)', T, async () => {
    const m = model('errors');
    up.script(m, tr.overloaded(m), tr.chatErrorMidStream(m), tr.failed(m));
    await assert.rejects(ant().messages.stream({ model: m, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).finalMessage(), /Overloaded/);
    await assert.rejects(oai().chat.completions.stream({ model: m, messages: [{ role: 'user', content: 'x' }] }).finalChatCompletion(), /upstream exploded/);
    const r = await oai().responses.stream({ model: m, input: 'x' }).finalResponse();
    assert.equal(r.status, 'failed');
    assert.equal(r.error.message, 'boom');
  });
});
