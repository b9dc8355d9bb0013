// The official openai SDK's Chat Completions client against the real router:
// passthrough to an OpenAI upstream (fakeoai), translation to an Anthropic
// upstream (fakeant: Chat -> Messages -> Chat) and to a Responses upstream
// (fakeresp: Chat -> Responses -> Chat).

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import OpenAI from 'openai';
import { FAIL_MESSAGE, TOOL_ARGS, USAGE, UPSTREAM_KEYS } from './fake_upstream.mjs';
import { ANT_MODEL, OAI_MODEL, RESP_MODEL, assertNoClientKey, rtest, setupRouter } from './harness.mjs';

const ctx = setupRouter();

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
};
const TOOL_RESULT = 'sunny, 21C';

function assertChatUsage(usage) {
  assert.ok(usage, 'usage missing');
  assert.equal(usage.prompt_tokens, USAGE.in);
  assert.equal(usage.completion_tokens, USAGE.out);
  assert.equal(usage.total_tokens, USAGE.in + USAGE.out);
}

// What an Anthropic upstream must have received for a translated Chat request.
function assertAnthropicUpstream(rec) {
  assert.ok(rec, 'nothing reached the Anthropic upstream at /v1/messages');
  assert.equal(rec.headers['x-api-key'], UPSTREAM_KEYS.anthropic);
  assert.equal(rec.headers['anthropic-version'], '2023-06-01');
  assertNoClientKey(assert, rec);
  assert.equal(rec.body.model, 'claude-test', 'provider prefix not stripped from the model');
  assert.ok(Number.isInteger(rec.body.max_tokens) && rec.body.max_tokens > 0, 'max_tokens missing (Messages requires it)');
  assert.ok(rec.body.messages.every((m) => m.role === 'user' || m.role === 'assistant'), 'a system/tool role leaked into Messages');
}

// The text of a Messages `system` field (string or text blocks).
function systemText(system) {
  if (typeof system === 'string') return system;
  return (system ?? []).map((b) => b.text).join('');
}

async function collectStream(stream) {
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta?.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return { text, finish, usage, chunks };
}

describe('openai SDK chat.completions -> fakeoai (passthrough)', () => {
  rtest(ctx, 'non-stream', async () => {
    const client = ctx.openai();
    const completion = await client.chat.completions.create({
      model: OAI_MODEL,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hi' },
      ],
      max_tokens: 64,
    });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices.length, 1);
    assert.equal(completion.choices[0].message.role, 'assistant');
    assert.equal(completion.choices[0].message.content, 'Hello from fake-openai! You said: Say hi');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assertChatUsage(completion.usage);

    const rec = ctx.upstream.last('/v1/chat/completions');
    assert.ok(rec, 'nothing reached the OpenAI upstream');
    assert.equal(rec.body.model, 'gpt-test', 'provider prefix not stripped from the model');
    assert.equal(rec.headers['authorization'], `Bearer ${UPSTREAM_KEYS.openai}`);
    assertNoClientKey(assert, rec);
    assert.deepEqual(rec.body.messages, [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say hi' },
    ]);
    assert.equal(rec.body.max_tokens, 64);
  });

  rtest(ctx, 'stream', async () => {
    const client = ctx.openai();
    const stream = await client.chat.completions.create({
      model: OAI_MODEL,
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
    });
    const got = await collectStream(stream);
    assert.equal(got.text, 'Hello from fake-openai! You said: Stream please');
    assert.equal(got.finish, 'stop');
    assert.ok(got.chunks >= 3, `expected several chunks, got ${got.chunks}`);
    assert.equal(got.usage, null, 'usage sent without stream_options.include_usage');
    assert.equal(ctx.upstream.last('/v1/chat/completions').body.stream, true);
  });

  rtest(ctx, 'stream with stream_options.include_usage', async () => {
    const client = ctx.openai();
    const stream = await client.chat.completions.create({
      model: OAI_MODEL,
      messages: [{ role: 'user', content: 'Count me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const got = await collectStream(stream);
    assert.equal(got.text, 'Hello from fake-openai! You said: Count me');
    assertChatUsage(got.usage);
    assert.equal(ctx.upstream.last('/v1/chat/completions').body.stream_options?.include_usage, true);
  });

  rtest(ctx, 'stream helper: chat.completions.stream + finalChatCompletion', async () => {
    const client = ctx.openai();
    const deltas = [];
    const runner = client.chat.completions.stream({
      model: OAI_MODEL,
      messages: [{ role: 'user', content: 'Helper' }],
    });
    runner.on('content', (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].message.content, 'Hello from fake-openai! You said: Helper');
    assert.equal(deltas.join(''), 'Hello from fake-openai! You said: Helper');
    assert.ok(deltas.length >= 2);
  });
});

describe('openai SDK chat.completions -> fakeant (Chat -> Messages -> Chat)', () => {
  rtest(ctx, 'non-stream', async () => {
    const client = ctx.openai();
    const completion = await client.chat.completions.create({
      model: ANT_MODEL,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hi' },
      ],
    });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0].message.role, 'assistant');
    assert.equal(completion.choices[0].message.content, 'Hello from fake-anthropic! You said: Say hi');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assertChatUsage(completion.usage);

    const rec = ctx.upstream.last('/v1/messages');
    assertAnthropicUpstream(rec);
    assert.equal(systemText(rec.body.system), 'You are terse.');
    assert.equal(rec.body.messages.length, 1);
    assert.equal(rec.body.messages[0].role, 'user');
    assert.equal(
      typeof rec.body.messages[0].content === 'string'
        ? rec.body.messages[0].content
        : rec.body.messages[0].content.map((b) => b.text).join(''),
      'Say hi',
    );
    assert.ok(!rec.body.stream, 'non-stream request sent upstream as a stream');
  });

  rtest(ctx, 'max_tokens carried over', async () => {
    const client = ctx.openai();
    await client.chat.completions.create({ model: ANT_MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 77 });
    assert.equal(ctx.upstream.last('/v1/messages').body.max_tokens, 77);
    await client.chat.completions.create({ model: ANT_MODEL, messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 55 });
    assert.equal(ctx.upstream.last('/v1/messages').body.max_tokens, 55);
  });

  rtest(ctx, 'stream', async () => {
    const client = ctx.openai();
    const stream = await client.chat.completions.create({
      model: ANT_MODEL,
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
    });
    const got = await collectStream(stream);
    assert.equal(got.text, 'Hello from fake-anthropic! You said: Stream please');
    assert.equal(got.finish, 'stop');
    assert.equal(got.usage, null, 'usage sent without stream_options.include_usage');
    const rec = ctx.upstream.last('/v1/messages');
    assertAnthropicUpstream(rec);
    assert.equal(rec.body.stream, true);
  });

  rtest(ctx, 'stream with stream_options.include_usage', async () => {
    const client = ctx.openai();
    const stream = await client.chat.completions.create({
      model: ANT_MODEL,
      messages: [{ role: 'user', content: 'Count me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const got = await collectStream(stream);
    assert.equal(got.text, 'Hello from fake-anthropic! You said: Count me');
    assert.equal(got.finish, 'stop');
    assertChatUsage(got.usage);
  });
});

// Tool round trip: the model asks for get_weather, the client runs it and
// sends the result back, the model answers with it. `stream` selects how the
// first (tool-calling) turn is read.
async function toolRoundTrip(model, stream) {
  const client = ctx.openai();
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  let assistant;
  if (stream) {
    const runner = client.chat.completions.stream({ model, messages, tools: [WEATHER_TOOL] });
    const argDeltas = [];
    runner.on('tool_calls.function.arguments.delta', (e) => argDeltas.push(e.arguments_delta));
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assistant = final.choices[0].message;
    assert.ok(argDeltas.length >= 2, `arguments should arrive in several deltas, got ${argDeltas.length}`);
  } else {
    const first = await client.chat.completions.create({ model, messages, tools: [WEATHER_TOOL] });
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    assistant = first.choices[0].message;
  }
  assert.equal(assistant.role, 'assistant');
  assert.equal(assistant.tool_calls?.length, 1, `expected one tool call, got ${JSON.stringify(assistant)}`);
  const call = assistant.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.ok(typeof call.id === 'string' && call.id.length > 0);
  assert.deepEqual(JSON.parse(call.function.arguments), TOOL_ARGS);

  messages.push({ role: 'assistant', content: assistant.content ?? null, tool_calls: [{ id: call.id, type: 'function', function: call.function }] });
  messages.push({ role: 'tool', tool_call_id: call.id, content: TOOL_RESULT });
  const second = await client.chat.completions.create({ model, messages, tools: [WEATHER_TOOL] });
  assert.equal(second.choices[0].message.content, `Weather in Paris: ${TOOL_RESULT}`);
  assert.equal(second.choices[0].finish_reason, 'stop');
  return call;
}

describe('openai SDK chat tools round trip', () => {
  for (const stream of [false, true]) {
    const how = stream ? 'stream' : 'non-stream';
    rtest(ctx, `fakeoai (passthrough), ${how}`, async () => {
      const call = await toolRoundTrip(OAI_MODEL, stream);
      const rec = ctx.upstream.last('/v1/chat/completions');
      assert.deepEqual(rec.body.tools, [WEATHER_TOOL]);
      assert.equal(rec.body.messages.at(-1).role, 'tool');
      assert.equal(rec.body.messages.at(-1).tool_call_id, call.id);
    });

    rtest(ctx, `fakeant (Chat -> Messages), ${how}`, async () => {
      const first = ctx.upstream.requests.length;
      const call = await toolRoundTrip(ANT_MODEL, stream);
      const reqs = ctx.upstream.since(first).filter((r) => r.path === '/v1/messages');
      assert.equal(reqs.length, 2);
      // Tools in Messages shape.
      for (const r of reqs) {
        assertAnthropicUpstream(r);
        assert.equal(r.body.tools.length, 1);
        assert.equal(r.body.tools[0].name, 'get_weather');
        assert.equal(r.body.tools[0].description, 'Current weather for a city');
        assert.deepEqual(r.body.tools[0].input_schema, WEATHER_TOOL.function.parameters);
      }
      // The second turn: assistant tool_use + user tool_result with matching ids.
      const msgs = reqs[1].body.messages;
      const assistantTurn = msgs.find((m) => m.role === 'assistant');
      const toolUse = assistantTurn.content.find((b) => b.type === 'tool_use');
      assert.ok(toolUse, 'assistant tool call not sent as a tool_use block');
      assert.equal(toolUse.name, 'get_weather');
      assert.deepEqual(toolUse.input, TOOL_ARGS);
      assert.equal(toolUse.id, call.id, 'tool call id not carried through (Anthropic needs the same id)');
      const last = msgs.at(-1);
      assert.equal(last.role, 'user');
      const result = last.content.find((b) => b.type === 'tool_result');
      assert.ok(result, 'tool message not sent as a tool_result block');
      assert.equal(result.tool_use_id, call.id);
    });
  }
});

describe('openai SDK chat.completions -> fakeresp (Chat -> Responses -> Chat)', () => {
  rtest(ctx, 'non-stream', async () => {
    const client = ctx.openai();
    const completion = await client.chat.completions.create({
      model: RESP_MODEL,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hi' },
      ],
    });
    assert.equal(completion.choices[0].message.content, 'Hello from fake-responses! You said: Say hi');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assertChatUsage(completion.usage);
    const rec = ctx.upstream.last('/v1/responses');
    assert.ok(rec, 'nothing reached the Responses upstream');
    assert.equal(rec.body.model, 'gpt-resp-test');
    assert.equal(rec.headers['authorization'], `Bearer ${UPSTREAM_KEYS.openai}`);
    assertNoClientKey(assert, rec);
  });

  rtest(ctx, 'stream', async () => {
    const client = ctx.openai();
    const stream = await client.chat.completions.create({
      model: RESP_MODEL,
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const got = await collectStream(stream);
    assert.equal(got.text, 'Hello from fake-responses! You said: Stream please');
    assert.equal(got.finish, 'stop');
    assertChatUsage(got.usage);
  });
});

describe('openai SDK chat errors', () => {
  for (const [name, model] of [['fakeoai (passthrough)', 'fakeoai:fail-400'], ['fakeant (translated)', 'fakeant:fail-400']]) {
    rtest(ctx, `upstream 400 from ${name} is an openai.BadRequestError`, async () => {
      const client = ctx.openai();
      await assert.rejects(
        client.chat.completions.create({ model, messages: [{ role: 'user', content: 'boom' }] }),
        (err) => {
          assert.ok(err instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${err?.constructor?.name}: ${err?.message}`);
          assert.equal(err.status, 400);
          assert.ok(err.message.includes(FAIL_MESSAGE), `message lost: ${err.message}`);
          assert.ok(err.error && typeof err.error === 'object', 'error body is not an object');
          return true;
        },
      );
    });

    rtest(ctx, `upstream 400 from ${name} when streaming is an openai.BadRequestError`, async () => {
      const client = ctx.openai();
      await assert.rejects(
        (async () => {
          const s = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'boom' }], stream: true });
          for await (const _ of s);
        })(),
        (err) => {
          assert.ok(err instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${err?.constructor?.name}: ${err?.message}`);
          assert.ok(err.message.includes(FAIL_MESSAGE), `message lost: ${err.message}`);
          return true;
        },
      );
    });
  }
});
