// Self-check of the fake upstream: the real SDKs talk to it directly (no
// router), so every shape the router tests rely on is known to satisfy the
// official clients. When a router test fails and this file passes, the fault
// is in the router, not in the fake.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { COUNT_TOKENS, FAIL_MESSAGE, TOOL_ARGS, USAGE, UPSTREAM_KEYS, startFakeUpstream } from './fake_upstream.mjs';

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
