// The official @anthropic-ai/sdk Messages client against the real router:
// passthrough to an Anthropic upstream (fakeant) and translation to an OpenAI
// Chat upstream (fakeoai: Messages -> Chat -> Messages).

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { COUNT_TOKENS, FAIL_MESSAGE, TOOL_ARGS, USAGE, UPSTREAM_KEYS } from './fake_upstream.mjs';
import { ANT_MODEL, CLIENT_KEY, OAI_MODEL, assertNoClientKey, rtest, setupRouter } from './harness.mjs';

const ctx = setupRouter();

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city'],
  },
};
const TOOL_RESULT = 'sunny, 21C';

function assertMessagesUsage(usage) {
  assert.ok(usage, 'usage missing');
  assert.equal(usage.input_tokens, USAGE.in);
  assert.equal(usage.output_tokens, USAGE.out);
}

function assertAnthropicUpstream(rec) {
  assert.ok(rec, 'nothing reached the Anthropic upstream at /v1/messages');
  assert.equal(rec.headers['x-api-key'], UPSTREAM_KEYS.anthropic);
  assert.match(rec.headers['anthropic-version'] ?? '', /^\d{4}-\d{2}-\d{2}$/, 'anthropic-version header missing');
  assert.equal(rec.body.model, 'claude-test', 'provider prefix not stripped from the model');
  assertNoClientKey(assert, rec);
}

// What a Chat upstream must have received for a translated Messages request.
function assertChatUpstream(rec) {
  assert.ok(rec, 'nothing reached the OpenAI upstream at /v1/chat/completions');
  assert.equal(rec.headers['authorization'], `Bearer ${UPSTREAM_KEYS.openai}`);
  assert.equal(rec.headers['x-api-key'], undefined, 'x-api-key sent to an OpenAI upstream');
  assert.equal(rec.headers['anthropic-version'], undefined, 'anthropic-version sent to an OpenAI upstream');
  assert.equal(rec.body.model, 'gpt-test', 'provider prefix not stripped from the model');
  assertNoClientKey(assert, rec);
}

function contentText(content) {
  if (typeof content === 'string') return content;
  return (content ?? []).filter((p) => p.type === 'text').map((p) => p.text).join('');
}

describe('anthropic SDK messages -> fakeant (passthrough)', () => {
  rtest(ctx, 'messages.create', async () => {
    const client = ctx.anthropic();
    const msg = await client.messages.create({
      model: ANT_MODEL,
      max_tokens: 128,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Say hi' }],
    });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.content.length, 1);
    assert.equal(msg.content[0].type, 'text');
    assert.equal(msg.content[0].text, 'Hello from fake-anthropic! You said: Say hi');
    assert.equal(msg.stop_reason, 'end_turn');
    assertMessagesUsage(msg.usage);

    const rec = ctx.upstream.last('/v1/messages');
    assertAnthropicUpstream(rec);
    assert.equal(rec.body.max_tokens, 128);
    assert.equal(contentText(rec.body.system), 'You are terse.');
    assert.equal(rec.body.messages.length, 1);
    assert.equal(rec.body.messages[0].role, 'user');
    assert.equal(contentText(rec.body.messages[0].content), 'Say hi');
  });

  rtest(ctx, 'messages.stream: text events and finalMessage()', async () => {
    const client = ctx.anthropic();
    const texts = [];
    const events = [];
    const stream = client.messages.stream({
      model: ANT_MODEL,
      max_tokens: 128,
      messages: [{ role: 'user', content: 'Stream please' }],
    });
    stream.on('text', (delta) => texts.push(delta));
    stream.on('streamEvent', (e) => events.push(e.type));
    const msg = await stream.finalMessage();
    assert.equal(texts.join(''), 'Hello from fake-anthropic! You said: Stream please');
    assert.ok(texts.length >= 2, 'text should arrive in several deltas');
    assert.equal(msg.content[0].text, 'Hello from fake-anthropic! You said: Stream please');
    assert.equal(msg.stop_reason, 'end_turn');
    assertMessagesUsage(msg.usage);
    assert.equal(events[0], 'message_start');
    assert.equal(events.at(-1), 'message_stop');
    assert.equal(ctx.upstream.last('/v1/messages').body.stream, true);
  });

  rtest(ctx, 'plain fetch with x-api-key: the client key is replaced, not forwarded', async () => {
    // The SDK authenticates with Authorization: Bearer; curl and older
    // clients use x-api-key, the same header the upstream key travels in.
    const res = await fetch(`${ctx.router.baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: ANT_MODEL, max_tokens: 32, messages: [{ role: 'user', content: 'curl' }] }),
      signal: AbortSignal.timeout(15000),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.content[0].text, 'Hello from fake-anthropic! You said: curl');
    const rec = ctx.upstream.last('/v1/messages');
    assertAnthropicUpstream(rec);
    assert.equal(rec.headers['anthropic-version'], '2023-06-01');
  });

  // The worker answers count_tokens itself with an estimate (it does not ask
  // the upstream), for a model of any provider: a positive integer that grows
  // with the input. (The fake upstream would answer COUNT_TOKENS if asked.)
  for (const model of [ANT_MODEL, OAI_MODEL]) {
    rtest(ctx, `messages.countTokens (${model})`, async () => {
      const client = ctx.anthropic();
      const short = await client.messages.countTokens({ model, messages: [{ role: 'user', content: 'How many tokens?' }] });
      const long = await client.messages.countTokens({
        model,
        system: 'You are terse.',
        messages: [{ role: 'user', content: 'How many tokens? '.repeat(50) }],
      });
      assert.ok(Number.isInteger(short.input_tokens) && short.input_tokens > 0, JSON.stringify(short));
      assert.ok(long.input_tokens > short.input_tokens, `${long.input_tokens} <= ${short.input_tokens}`);
      const rec = ctx.upstream.last('/v1/messages/count_tokens');
      if (rec) {
        assert.equal(short.input_tokens, COUNT_TOKENS);
        assertNoClientKey(assert, rec);
      }
    });
  }
});

describe('anthropic SDK messages -> fakeoai (Messages -> Chat -> Messages)', () => {
  rtest(ctx, 'messages.create', async () => {
    const client = ctx.anthropic();
    const msg = await client.messages.create({
      model: OAI_MODEL,
      max_tokens: 128,
      system: 'You are terse.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hi' }] }],
    });
    assert.equal(msg.type, 'message');
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.content[0].type, 'text');
    assert.equal(msg.content[0].text, 'Hello from fake-openai! You said: Say hi');
    assert.equal(msg.stop_reason, 'end_turn');
    assertMessagesUsage(msg.usage);
    assert.ok(typeof msg.id === 'string' && msg.id.length > 0);

    const rec = ctx.upstream.last('/v1/chat/completions');
    assertChatUpstream(rec);
    const [sys, user] = rec.body.messages;
    assert.ok(sys.role === 'system' || sys.role === 'developer', `system prompt not first: ${JSON.stringify(rec.body.messages)}`);
    assert.equal(contentText(sys.content), 'You are terse.');
    assert.equal(user.role, 'user');
    assert.equal(contentText(user.content), 'Say hi');
    assert.equal(rec.body.max_tokens ?? rec.body.max_completion_tokens, 128);
  });

  rtest(ctx, 'messages.stream: text events, finalMessage() and usage', async () => {
    const client = ctx.anthropic();
    const texts = [];
    const events = [];
    const stream = client.messages.stream({
      model: OAI_MODEL,
      max_tokens: 128,
      messages: [{ role: 'user', content: 'Stream please' }],
    });
    stream.on('text', (delta) => texts.push(delta));
    stream.on('streamEvent', (e) => events.push(e.type));
    const msg = await stream.finalMessage();
    assert.equal(texts.join(''), 'Hello from fake-openai! You said: Stream please');
    assert.equal(msg.content.length, 1);
    assert.equal(msg.content[0].text, 'Hello from fake-openai! You said: Stream please');
    assert.equal(msg.stop_reason, 'end_turn');
    assertMessagesUsage(msg.usage);
    // The Messages event lifecycle, in order.
    assert.equal(events[0], 'message_start');
    assert.equal(events[1], 'content_block_start');
    assert.ok(events.includes('content_block_delta'));
    assert.deepEqual(events.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    const rec = ctx.upstream.last('/v1/chat/completions');
    assertChatUpstream(rec);
    assert.equal(rec.body.stream, true);
  });

  rtest(ctx, 'raw stream: messages.create({stream: true})', async () => {
    const client = ctx.anthropic();
    const stream = await client.messages.create({
      model: OAI_MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Raw' }],
      stream: true,
    });
    let text = '';
    let stop = null;
    const types = [];
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      if (e.type === 'message_delta') stop = e.delta.stop_reason;
    }
    assert.equal(text, 'Hello from fake-openai! You said: Raw');
    assert.equal(stop, 'end_turn');
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
  });
});

// Tool round trip with the Anthropic SDK: the model answers with a tool_use
// block, the client sends a tool_result, the model answers with text.
async function toolRoundTrip(model, stream) {
  const client = ctx.anthropic();
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  let first;
  if (stream) {
    const jsonDeltas = [];
    const s = client.messages.stream({ model, max_tokens: 256, tools: [WEATHER_TOOL], messages });
    s.on('inputJson', (partial) => jsonDeltas.push(partial));
    first = await s.finalMessage();
    assert.ok(jsonDeltas.filter((d) => d.length > 0).length >= 2, `tool input should arrive as several input_json_delta, got ${JSON.stringify(jsonDeltas)}`);
    assert.deepEqual(JSON.parse(jsonDeltas.join('')), TOOL_ARGS);
  } else {
    first = await client.messages.create({ model, max_tokens: 256, tools: [WEATHER_TOOL], messages });
  }
  assert.equal(first.stop_reason, 'tool_use');
  const toolUses = first.content.filter((b) => b.type === 'tool_use');
  assert.equal(toolUses.length, 1, `expected one tool_use block, got ${JSON.stringify(first.content)}`);
  const use = toolUses[0];
  assert.equal(use.name, 'get_weather');
  assert.ok(typeof use.id === 'string' && use.id.length > 0);
  assert.deepEqual(use.input, TOOL_ARGS);

  messages.push({ role: 'assistant', content: first.content });
  messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: TOOL_RESULT }] });
  const second = await client.messages.create({ model, max_tokens: 256, tools: [WEATHER_TOOL], messages });
  assert.equal(second.stop_reason, 'end_turn');
  assert.equal(contentText(second.content), `Weather in Paris: ${TOOL_RESULT}`);
  return use;
}

describe('anthropic SDK tools round trip', () => {
  for (const stream of [false, true]) {
    const how = stream ? 'stream' : 'non-stream';
    rtest(ctx, `fakeant (passthrough), ${how}`, async () => {
      const use = await toolRoundTrip(ANT_MODEL, stream);
      const rec = ctx.upstream.last('/v1/messages');
      assertAnthropicUpstream(rec);
      assert.deepEqual(rec.body.tools, [WEATHER_TOOL]);
      assert.equal(rec.body.messages.at(-1).content[0].tool_use_id, use.id);
    });

    rtest(ctx, `fakeoai (Messages -> Chat), ${how}`, async () => {
      const mark = ctx.upstream.requests.length;
      const use = await toolRoundTrip(OAI_MODEL, stream);
      const reqs = ctx.upstream.since(mark).filter((r) => r.path === '/v1/chat/completions');
      assert.equal(reqs.length, 2);
      for (const r of reqs) {
        assertChatUpstream(r);
        assert.equal(r.body.tools?.length, 1);
        assert.equal(r.body.tools[0].type, 'function');
        assert.equal(r.body.tools[0].function.name, 'get_weather');
        assert.equal(r.body.tools[0].function.description, WEATHER_TOOL.description);
        assert.deepEqual(r.body.tools[0].function.parameters, WEATHER_TOOL.input_schema);
      }
      const msgs = reqs[1].body.messages;
      const asst = msgs.find((m) => m.role === 'assistant');
      assert.ok(asst?.tool_calls?.length === 1, `assistant tool_use not sent as tool_calls: ${JSON.stringify(msgs)}`);
      assert.equal(asst.tool_calls[0].id, use.id);
      assert.equal(asst.tool_calls[0].function.name, 'get_weather');
      assert.deepEqual(JSON.parse(asst.tool_calls[0].function.arguments), TOOL_ARGS);
      const tool = msgs.at(-1);
      assert.equal(tool.role, 'tool', `tool_result not sent as a tool message: ${JSON.stringify(tool)}`);
      assert.equal(tool.tool_call_id, use.id);
      assert.equal(contentText(tool.content), TOOL_RESULT);
    });
  }
});

describe('anthropic SDK errors', () => {
  for (const [name, model] of [['fakeant (passthrough)', 'fakeant:fail-400'], ['fakeoai (translated)', 'fakeoai:fail-400']]) {
    rtest(ctx, `upstream 400 from ${name} is Anthropic.BadRequestError`, async () => {
      const client = ctx.anthropic();
      await assert.rejects(
        client.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'boom' }] }),
        (err) => {
          assert.ok(err instanceof Anthropic.BadRequestError, `expected BadRequestError, got ${err?.constructor?.name}: ${err?.message}`);
          assert.equal(err.status, 400);
          assert.ok(err.message.includes(FAIL_MESSAGE), `message lost: ${err.message}`);
          assert.equal(err.error?.type, 'error', `not an Anthropic error body: ${JSON.stringify(err.error)}`);
          assert.equal(err.error?.error?.type, 'invalid_request_error');
          assert.ok(err.error?.error?.message.includes(FAIL_MESSAGE));
          return true;
        },
      );
    });

    rtest(ctx, `upstream 400 from ${name} in messages.stream is Anthropic.BadRequestError`, async () => {
      const client = ctx.anthropic();
      const s = client.messages.stream({ model, max_tokens: 16, messages: [{ role: 'user', content: 'boom' }] });
      s.on('error', () => {}); // the rejection below is what we check
      await assert.rejects(s.finalMessage(), (err) => {
        assert.ok(err instanceof Anthropic.BadRequestError, `expected BadRequestError, got ${err?.constructor?.name}: ${err?.message}`);
        assert.ok(err.message.includes(FAIL_MESSAGE), `message lost: ${err.message}`);
        return true;
      });
    });
  }
});
