// The official openai SDK's Responses client against the real router:
// translation to a Chat upstream (fakeoai: Responses -> Chat -> Responses),
// to an Anthropic upstream (fakeant: Responses -> Messages -> Responses) and
// passthrough to a Responses upstream (fakeresp).

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import OpenAI from 'openai';
import { FAIL_MESSAGE, TOOL_ARGS, USAGE, UPSTREAM_KEYS } from './fake_upstream.mjs';
import { ANT_MODEL, OAI_MODEL, RESP_MODEL, assertNoClientKey, rtest, setupRouter } from './harness.mjs';

const ctx = setupRouter();

const WEATHER_TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
  strict: true,
};
const TOOL_RESULT = 'sunny, 21C';

const TARGETS = [
  { name: 'fakeoai (Responses -> Chat)', model: OAI_MODEL, upstreamPath: '/v1/chat/completions', who: 'fake-openai' },
  { name: 'fakeant (Responses -> Messages)', model: ANT_MODEL, upstreamPath: '/v1/messages', who: 'fake-anthropic' },
  { name: 'fakeresp (passthrough)', model: RESP_MODEL, upstreamPath: '/v1/responses', who: 'fake-responses' },
];

function assertResponsesUsage(usage) {
  assert.ok(usage, 'usage missing');
  assert.equal(usage.input_tokens, USAGE.in);
  assert.equal(usage.output_tokens, USAGE.out);
  assert.equal(usage.total_tokens, USAGE.in + USAGE.out);
}

function contentText(content) {
  if (typeof content === 'string') return content;
  return (content ?? []).map((p) => p.text ?? '').join('');
}

// Checks what reached the upstream for a Responses request with
// instructions 'You are terse.' and input `input`.
function assertUpstream(target, rec, input) {
  assert.ok(rec, `nothing reached ${target.upstreamPath}`);
  assertNoClientKey(assert, rec);
  const b = rec.body;
  if (target.upstreamPath === '/v1/chat/completions') {
    assert.equal(rec.headers['authorization'], `Bearer ${UPSTREAM_KEYS.openai}`);
    assert.equal(b.model, 'gpt-test');
    assert.ok(['system', 'developer'].includes(b.messages[0].role), `instructions not sent as a system message: ${JSON.stringify(b.messages)}`);
    assert.equal(contentText(b.messages[0].content), 'You are terse.');
    assert.equal(b.messages.at(-1).role, 'user');
    assert.equal(contentText(b.messages.at(-1).content), input);
  } else if (target.upstreamPath === '/v1/messages') {
    assert.equal(rec.headers['x-api-key'], UPSTREAM_KEYS.anthropic);
    assert.equal(rec.headers['anthropic-version'], '2023-06-01');
    assert.equal(b.model, 'claude-test');
    assert.ok(Number.isInteger(b.max_tokens) && b.max_tokens > 0, 'max_tokens missing');
    assert.equal(typeof b.system === 'string' ? b.system : contentText(b.system), 'You are terse.');
    assert.equal(b.messages.at(-1).role, 'user');
    assert.equal(contentText(b.messages.at(-1).content), input);
  } else {
    assert.equal(rec.headers['authorization'], `Bearer ${UPSTREAM_KEYS.openai}`);
    assert.equal(b.model, 'gpt-resp-test');
    assert.equal(b.instructions, 'You are terse.');
  }
}

for (const target of TARGETS) {
  describe(`openai SDK responses -> ${target.name}`, () => {
    rtest(ctx, 'responses.create', async () => {
      const client = ctx.openai();
      const r = await client.responses.create({
        model: target.model,
        instructions: 'You are terse.',
        input: 'Say hi',
        max_output_tokens: 100,
      });
      assert.equal(r.object, 'response');
      assert.equal(r.status, 'completed');
      assert.equal(r.output_text, `Hello from ${target.who}! You said: Say hi`);
      const msg = r.output.find((o) => o.type === 'message');
      assert.ok(msg, `no message item in output: ${JSON.stringify(r.output)}`);
      assert.equal(msg.role, 'assistant');
      assert.equal(msg.content[0].type, 'output_text');
      assertResponsesUsage(r.usage);
      const rec = ctx.upstream.last(target.upstreamPath);
      assertUpstream(target, rec, 'Say hi');
      assert.ok(!rec.body.stream, 'non-stream request sent upstream as a stream');
      if (target.upstreamPath === '/v1/chat/completions') assert.equal(rec.body.max_tokens ?? rec.body.max_completion_tokens, 100);
      if (target.upstreamPath === '/v1/messages') assert.equal(rec.body.max_tokens, 100);
    });

    rtest(ctx, 'responses.stream: text deltas and finalResponse()', async () => {
      const client = ctx.openai();
      const deltas = [];
      const types = [];
      const stream = client.responses.stream({
        model: target.model,
        instructions: 'You are terse.',
        input: 'Stream please',
      });
      stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
      stream.on('event', (e) => types.push(e.type));
      const r = await stream.finalResponse();
      assert.equal(deltas.join(''), `Hello from ${target.who}! You said: Stream please`);
      assert.ok(deltas.length >= 2, 'text should arrive in several deltas');
      assert.equal(r.output_text, `Hello from ${target.who}! You said: Stream please`);
      assert.equal(r.status, 'completed');
      assertResponsesUsage(r.usage);
      assert.equal(types[0], 'response.created');
      assert.equal(types.at(-1), 'response.completed');
      for (const t of ['response.output_item.added', 'response.content_part.added', 'response.output_text.done', 'response.output_item.done']) {
        assert.ok(types.includes(t), `missing ${t} in ${types.join(',')}`);
      }
      const rec = ctx.upstream.last(target.upstreamPath);
      assertUpstream(target, rec, 'Stream please');
      assert.equal(rec.body.stream, true);
    });

    rtest(ctx, 'responses.create({stream: true}): raw events', async () => {
      const client = ctx.openai();
      const stream = await client.responses.create({ model: target.model, input: 'Raw', stream: true });
      let text = '';
      let lastSeq = -1;
      const types = [];
      let completed = null;
      for await (const e of stream) {
        types.push(e.type);
        assert.ok(Number.isInteger(e.sequence_number) && e.sequence_number > lastSeq, `sequence_number not increasing at ${e.type}`);
        lastSeq = e.sequence_number;
        if (e.type === 'response.output_text.delta') text += e.delta;
        if (e.type === 'response.completed') completed = e.response;
      }
      assert.equal(text, `Hello from ${target.who}! You said: Raw`);
      assert.equal(types[0], 'response.created');
      assert.ok(completed, 'no response.completed event');
      assert.equal(completed.status, 'completed');
    });

    rtest(ctx, 'function tool round trip', async () => {
      const client = ctx.openai();
      const input = [{ role: 'user', content: 'What is the weather in Paris?' }];
      const first = await client.responses.create({ model: target.model, input, tools: [WEATHER_TOOL] });
      const calls = first.output.filter((o) => o.type === 'function_call');
      assert.equal(calls.length, 1, `expected one function_call, got ${JSON.stringify(first.output)}`);
      const call = calls[0];
      assert.equal(call.name, 'get_weather');
      assert.ok(typeof call.call_id === 'string' && call.call_id.length > 0);
      assert.deepEqual(JSON.parse(call.arguments), TOOL_ARGS);

      const mark = ctx.upstream.requests.length;
      const second = await client.responses.create({
        model: target.model,
        input: [...input, ...first.output, { type: 'function_call_output', call_id: call.call_id, output: TOOL_RESULT }],
        tools: [WEATHER_TOOL],
      });
      assert.equal(second.output_text, `Weather in Paris: ${TOOL_RESULT}`);
      const rec = ctx.upstream.since(mark).find((r) => r.path === target.upstreamPath);
      assert.ok(rec, 'second turn did not reach the upstream');
      assertNoClientKey(assert, rec);
      if (target.upstreamPath === '/v1/chat/completions') {
        assert.equal(rec.body.tools[0].type, 'function');
        assert.equal(rec.body.tools[0].function.name, 'get_weather');
        assert.deepEqual(rec.body.tools[0].function.parameters, WEATHER_TOOL.parameters);
        const asst = rec.body.messages.find((m) => m.role === 'assistant');
        assert.equal(asst?.tool_calls?.[0]?.id, call.call_id);
        assert.equal(rec.body.messages.at(-1).role, 'tool');
        assert.equal(rec.body.messages.at(-1).tool_call_id, call.call_id);
      } else if (target.upstreamPath === '/v1/messages') {
        assert.equal(rec.body.tools[0].name, 'get_weather');
        assert.deepEqual(rec.body.tools[0].input_schema, WEATHER_TOOL.parameters);
        const asst = rec.body.messages.find((m) => m.role === 'assistant');
        const use = asst?.content?.find?.((b) => b.type === 'tool_use');
        assert.equal(use?.id, call.call_id);
        assert.deepEqual(use?.input, TOOL_ARGS);
        const result = rec.body.messages.at(-1).content.find((b) => b.type === 'tool_result');
        assert.equal(result?.tool_use_id, call.call_id);
      }
    });

    rtest(ctx, 'function call arguments streamed', async () => {
      const client = ctx.openai();
      const argDeltas = [];
      const stream = client.responses.stream({
        model: target.model,
        input: 'What is the weather in Paris?',
        tools: [WEATHER_TOOL],
      });
      stream.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta));
      const r = await stream.finalResponse();
      const call = r.output.find((o) => o.type === 'function_call');
      assert.ok(call, `no function_call in ${JSON.stringify(r.output)}`);
      assert.equal(call.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.arguments), TOOL_ARGS);
      assert.ok(argDeltas.length >= 2, `arguments should arrive in several deltas, got ${argDeltas.length}`);
      assert.equal(argDeltas.join(''), call.arguments);
    });
  });
}

describe('openai SDK responses errors', () => {
  for (const model of ['fakeoai:fail-400', 'fakeant:fail-400', 'fakeresp:fail-400']) {
    rtest(ctx, `upstream 400 via ${model} is an openai.BadRequestError`, async () => {
      const client = ctx.openai();
      await assert.rejects(client.responses.create({ model, input: 'boom' }), (err) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${err?.constructor?.name}: ${err?.message}`);
        assert.equal(err.status, 400);
        assert.ok(err.message.includes(FAIL_MESSAGE), `message lost: ${err.message}`);
        return true;
      });
    });
  }
});
