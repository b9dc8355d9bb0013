// Issue 11: legal but unusual upstream answers that must survive translation
// to another client protocol. Each case scripts the exact upstream transcript
// (fake_upstream.mjs `script`) and judges what the official SDK's stream
// helper returns (finalMessage, finalChatCompletion, finalResponse) or
// throws, plus the raw events where the SDK would be lenient. Gemini is
// plain fetch on the wire shape Google's SDKs use.
//
// Classes: 1 interleaved parallel tool calls, 2 empty tool input, 3 tool
// calls closed by finish_reason "stop", 4 reasoning in JSON answers,
// 5 repeated tool-call ids from Gemini, 6 blocked Gemini prompt on
// passthrough, 7 server-side tool items (web search), 8 nothing after an
// upstream error event.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { SCRIPTED_PREFIX } from './fake_upstream.mjs';
import { CLIENT_KEY, readSSE, rtest, setupRouter } from './harness.mjs';
import {
  ANSWER, GEM_CALLS, INTERLEAVED, REASONING, VLLM_MESSAGE, WS_TEXT,
  antTools, chatErrorMidStream, chatJSON, chatTools, emptyToolInputs, failed, gemCallsJSON, gemCallsSSE, gemTools,
  interleavedToolCalls, messagesJSON, overloaded, respTools, responsesErrorEvent, toolCallsThenStop, webSearchMessages,
  webSearchResponses,
} from './transcripts.mjs';

const ctx = setupRouter();
const FETCH_TIMEOUT_MS = 15000;

let seq = 0;
// A fresh upstream model name, so no two tests share a reply queue.
function scriptedModel(tag) {
  return `${SCRIPTED_PREFIX}-${tag}-${++seq}`;
}

// ------------------------------------------------------------ client helpers

function gemURL(method, model, query = '') {
  return `${ctx.router.baseURL}/v1beta/models/${model}:${method}${query}`;
}

async function gemPost(method, model, body, query = '') {
  const res = await fetch(gemURL(method, model, query), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': CLIENT_KEY },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  return res;
}

// The Gemini stream as Google's SDKs read it: each data line one JSON
// GenerateContentResponse. Fails on a line that is not JSON.
async function gemStream(model, body) {
  const res = await gemPost('streamGenerateContent', model, body, '?alt=sse');
  const { text, events } = await readSSE(res);
  assert.equal(res.status, 200, `HTTP ${res.status}: ${text.slice(0, 1000)}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  for (const e of events) assert.equal(typeof e.data, 'object', `a Gemini SSE data line is not JSON: ${JSON.stringify(e.data)}\n${text}`);
  return { text, chunks: events.map((e) => e.data) };
}

function gemParts(chunks) {
  return chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
}

// Runs an Anthropic MessageStream to finalMessage(), keeping the raw events.
async function antStream(params) {
  const events = [];
  const stream = ctx.anthropic().messages.stream(params);
  stream.on('streamEvent', (e) => events.push(e));
  const message = await stream.finalMessage();
  return { message, events };
}

async function respStream(params) {
  const events = [];
  const stream = ctx.openai().responses.stream(params);
  stream.on('event', (e) => events.push(e));
  const response = await stream.finalResponse();
  return { response, events };
}

async function chatStream(params) {
  const chunks = [];
  const stream = ctx.openai().chat.completions.stream(params);
  stream.on('chunk', (c) => chunks.push(c));
  const completion = await stream.finalChatCompletion();
  return { completion, chunks };
}

// ------------------------------------------------------------ raw-event checks

// A Messages stream the SDK accumulates by index: block indices 0..n-1 in
// order, deltas only into the open block of a matching type, every block
// stopped, message_delta after the blocks, message_stop last and once.
function assertMessagesStream(events) {
  const types = events.map((e) => e.type);
  const ctxMsg = `events: ${JSON.stringify(types)}`;
  assert.equal(types[0], 'message_start', ctxMsg);
  assert.equal(types.at(-1), 'message_stop', ctxMsg);
  assert.equal(types.filter((t) => t === 'message_stop').length, 1, ctxMsg);
  const blocks = [];
  const open = new Set();
  const deltaFor = { text_delta: ['text'], citations_delta: ['text'], input_json_delta: ['tool_use', 'server_tool_use'], thinking_delta: ['thinking'], signature_delta: ['thinking'] };
  for (const e of events) {
    if (e.type === 'content_block_start') {
      assert.equal(e.index, blocks.length, `content_block_start index ${e.index}, expected ${blocks.length}; ${ctxMsg}`);
      blocks.push(e.content_block.type);
      open.add(e.index);
    } else if (e.type === 'content_block_delta') {
      assert.ok(open.has(e.index), `delta for block ${e.index} that is not open; ${ctxMsg}`);
      const ok = deltaFor[e.delta.type];
      assert.ok(ok && ok.includes(blocks[e.index]), `${e.delta.type} into a ${blocks[e.index]} block`);
    } else if (e.type === 'content_block_stop') {
      assert.ok(open.delete(e.index), `content_block_stop for block ${e.index} that is not open; ${ctxMsg}`);
    } else if (e.type === 'message_delta') {
      assert.equal(open.size, 0, `message_delta with blocks still open; ${ctxMsg}`);
    }
  }
  assert.equal(open.size, 0, `blocks never stopped: ${[...open]}`);
}

// A Responses stream: response.created first, increasing sequence numbers,
// items added at output_index 0..n-1 and each done once, argument deltas
// adding up to the done arguments, one terminal event, and it is last.
function assertResponsesStream(events, terminal = 'response.completed') {
  const types = events.map((e) => e.type);
  const ctxMsg = `events: ${JSON.stringify(types)}`;
  assert.equal(types[0], 'response.created', ctxMsg);
  const terminals = types.filter((t) => ['response.completed', 'response.failed', 'response.incomplete', 'error'].includes(t));
  assert.deepEqual(terminals, [terminal], ctxMsg);
  assert.equal(types.at(-1), terminal, ctxMsg);
  let last = -1;
  for (const e of events) {
    if (e.sequence_number !== undefined) {
      assert.ok(e.sequence_number > last, `sequence_number ${e.sequence_number} after ${last}`);
      last = e.sequence_number;
    }
  }
  const items = [];
  const args = new Map();
  for (const e of events) {
    if (e.type === 'response.output_item.added') {
      assert.equal(e.output_index, items.length, `output_item.added at ${e.output_index}, expected ${items.length}; ${ctxMsg}`);
      items.push({ id: e.item.id, type: e.item.type, done: false });
    } else if (e.type === 'response.output_item.done') {
      const it = items[e.output_index];
      assert.ok(it && !it.done, `output_item.done for ${e.output_index} not open; ${ctxMsg}`);
      assert.equal(e.item.id, it.id);
      it.done = true;
      if (e.item.type === 'function_call') {
        assert.equal(args.get(e.output_index) ?? '', e.item.arguments, `argument deltas of item ${e.output_index} do not add up to its arguments`);
      }
    } else if (e.type === 'response.function_call_arguments.delta') {
      const it = items[e.output_index];
      assert.ok(it && !it.done && it.type === 'function_call', `arguments delta for output ${e.output_index} (${it?.type}); ${ctxMsg}`);
      assert.equal(e.item_id, it.id, 'arguments delta item_id does not match its output_index');
      args.set(e.output_index, (args.get(e.output_index) ?? '') + e.delta);
    } else if (e.type === 'response.function_call_arguments.done') {
      assert.equal(e.arguments, args.get(e.output_index) ?? '', 'function_call_arguments.done differs from the deltas');
    }
  }
  if (terminal === 'response.completed') assert.ok(items.every((i) => i.done), `items never done; ${ctxMsg}`);
}

// A Chat stream: one finish_reason; a tool call's id/name come with its first delta only.
function assertChatStream(chunks) {
  const finishes = chunks.flatMap((c) => c.choices.filter((ch) => ch.finish_reason).map((ch) => ch.finish_reason));
  assert.equal(finishes.length, 1, `finish_reason ${JSON.stringify(finishes)}`);
  const seen = new Map();
  for (const c of chunks) {
    for (const ch of c.choices) {
      for (const tc of ch.delta?.tool_calls ?? []) {
        if (!seen.has(tc.index)) {
          assert.ok(typeof tc.id === 'string' && tc.id.length > 0, `first delta of tool call ${tc.index} has no id: ${JSON.stringify(tc)}`);
          assert.ok(typeof tc.function?.name === 'string' && tc.function.name.length > 0, `first delta of tool call ${tc.index} has no name`);
          seen.set(tc.index, tc.id);
        } else if (tc.id !== undefined) {
          assert.equal(tc.id, seen.get(tc.index), `tool call ${tc.index} changed its id`);
        }
      }
    }
  }
}

function assertDistinct(ids, what) {
  assert.ok(ids.every((id) => typeof id === 'string' && id.length > 0), `${what}: an empty id in ${JSON.stringify(ids)}`);
  assert.equal(new Set(ids).size, ids.length, `${what}: ids repeat: ${JSON.stringify(ids)}`);
}


describe('1. parallel tool calls that interleave (Chat upstream)', () => {
  rtest(ctx, '[1] Messages client: finalMessage() has two tool_use blocks with whole inputs', async () => {
    const model = scriptedModel('interleave-msg');
    ctx.upstream.script(model, interleavedToolCalls(model));
    const { message, events } = await antStream({
      model: `fakeoai:${model}`, max_tokens: 200, tools: antTools(),
      messages: [{ role: 'user', content: 'Weather and time in Paris?' }],
    });
    assertMessagesStream(events);
    const uses = message.content.filter((b) => b.type === 'tool_use');
    assert.deepEqual(uses.map((u) => ({ name: u.name, input: u.input })), INTERLEAVED, JSON.stringify(message.content));
    assertDistinct(uses.map((u) => u.id), 'tool_use ids');
    assert.equal(message.stop_reason, 'tool_use');
  });

  rtest(ctx, '[1] Responses client: finalResponse() has two function_call items with whole arguments', async () => {
    const model = scriptedModel('interleave-resp');
    ctx.upstream.script(model, interleavedToolCalls(model));
    const { response, events } = await respStream({ model: `fakeoai:${model}`, input: 'Weather and time in Paris?', tools: respTools() });
    assertResponsesStream(events);
    const calls = response.output.filter((o) => o.type === 'function_call');
    assert.deepEqual(calls.map((c) => ({ name: c.name, input: JSON.parse(c.arguments) })), INTERLEAVED, JSON.stringify(response.output));
    assertDistinct(calls.map((c) => c.call_id), 'call_ids');
    assert.equal(response.status, 'completed');
  });

  rtest(ctx, '[1] Gemini client: the stream has two functionCall parts with whole args', async () => {
    const model = scriptedModel('interleave-gem');
    ctx.upstream.script(model, interleavedToolCalls(model));
    const { text, chunks } = await gemStream(`fakeoai:${model}`, {
      contents: [{ role: 'user', parts: [{ text: 'Weather and time in Paris?' }] }], tools: gemTools(),
    });
    assert.ok(chunks.every((c) => c.error === undefined), `an error in the stream: ${text}`);
    const calls = gemParts(chunks).filter((p) => p.functionCall).map((p) => ({ name: p.functionCall.name, input: p.functionCall.args }));
    assert.deepEqual(calls, INTERLEAVED, text);
    assert.ok(chunks.some((c) => c.candidates?.[0]?.finishReason), `no finishReason: ${text}`);
  });
});

// ============================================================ 2. empty tool input

describe('2. empty tool input (Messages upstream) -> Chat client', () => {
  rtest(ctx, '[2] stream: finalChatCompletion() has arguments "{}" for an empty and a missing input_json_delta', async () => {
    const model = scriptedModel('empty-input');
    ctx.upstream.script(model, emptyToolInputs(model));
    const { completion, chunks } = await chatStream({
      model: `fakeant:${model}`, max_tokens: 200, tools: chatTools(),
      messages: [{ role: 'user', content: 'Call both tools without arguments' }],
    });
    assertChatStream(chunks);
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    const calls = choice.message.tool_calls ?? [];
    assert.deepEqual(calls.map((c) => c.function.name), ['get_weather', 'get_time'], JSON.stringify(choice.message));
    for (const c of calls) {
      assert.equal(c.function.arguments, '{}', `${c.function.name} arguments ${JSON.stringify(c.function.arguments)}`);
      assert.deepEqual(JSON.parse(c.function.arguments), {});
    }
    assertDistinct(calls.map((c) => c.id), 'tool_call ids');
  });

  rtest(ctx, '[2] JSON: a tool_use with input {} reaches the Chat client as arguments "{}"', async () => {
    const model = scriptedModel('empty-input-json');
    ctx.upstream.script(model, messagesJSON(model, [{ type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: {} }], 'tool_use'));
    const r = await ctx.openai().chat.completions.create({
      model: `fakeant:${model}`, max_tokens: 200, tools: chatTools(),
      messages: [{ role: 'user', content: 'Call a tool without arguments' }],
    });
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.equal(r.choices[0].message.tool_calls?.[0]?.function.arguments, '{}', JSON.stringify(r.choices[0].message));
  });
});


describe('3. tool calls closed by finish_reason "stop" (vLLM-style Chat upstream)', () => {
  rtest(ctx, '[3] Messages client stream: finalMessage().stop_reason is tool_use', async () => {
    const model = scriptedModel('stop-msg');
    ctx.upstream.script(model, toolCallsThenStop(model));
    const { message, events } = await antStream({
      model: `fakeoai:${model}`, max_tokens: 200, tools: antTools(), messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    assertMessagesStream(events);
    assert.equal(message.stop_reason, 'tool_use');
    const uses = message.content.filter((b) => b.type === 'tool_use');
    assert.deepEqual(uses.map((u) => u.input), [{ city: 'Paris' }]);
  });

  rtest(ctx, '[3] Messages client JSON: stop_reason is tool_use', async () => {
    const model = scriptedModel('stop-msg-json');
    ctx.upstream.script(model, chatJSON(model, VLLM_MESSAGE, 'stop'));
    const m = await ctx.anthropic().messages.create({
      model: `fakeoai:${model}`, max_tokens: 200, tools: antTools(), messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    assert.equal(m.stop_reason, 'tool_use', JSON.stringify(m));
    assert.deepEqual(m.content.filter((b) => b.type === 'tool_use').map((u) => u.input), [{ city: 'Paris' }]);
  });

  rtest(ctx, '[3] Responses client stream: finalResponse() is completed with the function_call', async () => {
    const model = scriptedModel('stop-resp');
    ctx.upstream.script(model, toolCallsThenStop(model));
    const { response, events } = await respStream({ model: `fakeoai:${model}`, input: 'Weather in Paris?', tools: respTools() });
    assertResponsesStream(events);
    assert.equal(response.status, 'completed');
    assert.equal(response.incomplete_details ?? null, null);
    const calls = response.output.filter((o) => o.type === 'function_call');
    assert.deepEqual(calls.map((c) => JSON.parse(c.arguments)), [{ city: 'Paris' }], JSON.stringify(response.output));
    assert.equal(calls[0].status ?? 'completed', 'completed');
  });

  rtest(ctx, '[3] Responses client JSON: completed with the function_call', async () => {
    const model = scriptedModel('stop-resp-json');
    ctx.upstream.script(model, chatJSON(model, VLLM_MESSAGE, 'stop'));
    const r = await ctx.openai().responses.create({ model: `fakeoai:${model}`, input: 'Weather in Paris?', tools: respTools() });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.output.filter((o) => o.type === 'function_call').map((c) => JSON.parse(c.arguments)), [{ city: 'Paris' }]);
  });
});


describe('4. reasoning in a Chat JSON answer (DeepSeek reasoning_content)', () => {
  for (const field of ['reasoning_content', 'reasoning']) {
    rtest(ctx, `[4] Messages client: message.${field} becomes a thinking block before the text`, async () => {
      const model = scriptedModel(`reason-msg-${field}`);
      ctx.upstream.script(model, chatJSON(model, { content: ANSWER, [field]: REASONING }, 'stop'));
      const m = await ctx.anthropic().messages.create({ model: `fakeoai:${model}`, max_tokens: 200, messages: [{ role: 'user', content: 'Hi' }] });
      assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text'], JSON.stringify(m.content));
      assert.equal(m.content[0].thinking, REASONING);
      assert.equal(m.content[1].text, ANSWER);
      assert.equal(m.stop_reason, 'end_turn');
    });
  }

  rtest(ctx, '[4] Responses client: message.reasoning_content becomes a reasoning item before the message', async () => {
    const model = scriptedModel('reason-resp');
    ctx.upstream.script(model, chatJSON(model, { content: ANSWER, reasoning_content: REASONING }, 'stop'));
    const r = await ctx.openai().responses.create({ model: `fakeoai:${model}`, input: 'Hi' });
    assert.deepEqual(r.output.map((o) => o.type), ['reasoning', 'message'], JSON.stringify(r.output));
    const item = r.output[0];
    const texts = [...(item.summary ?? []), ...(item.content ?? [])].map((p) => p.text).join('');
    assert.equal(texts, REASONING, JSON.stringify(item));
    assert.equal(r.output_text, ANSWER);
  });
});


describe('5. Gemini answers without ids: tool call ids unique within and across answers', () => {
  rtest(ctx, '[5] Messages client: two JSON and two streamed answers', async () => {
    const model = scriptedModel('gem-ids-msg');
    ctx.upstream.script(model, gemCallsJSON(), gemCallsJSON(), gemCallsSSE(), gemCallsSSE());
    const params = { model: `fakegem:${model}`, max_tokens: 200, tools: antTools(), messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }] };
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push((await ctx.anthropic().messages.create(params)).content);
    for (let i = 0; i < 2; i++) {
      const { message, events } = await antStream(params);
      assertMessagesStream(events);
      answers.push(message.content);
    }
    const all = [];
    for (const [i, content] of answers.entries()) {
      const uses = content.filter((b) => b.type === 'tool_use');
      assert.deepEqual(uses.map((u) => u.input), GEM_CALLS.map((c) => c.args), `answer ${i}: ${JSON.stringify(content)}`);
      assertDistinct(uses.map((u) => u.id), `answer ${i}`);
      all.push(...uses.map((u) => u.id));
    }
    assertDistinct(all, 'across the four answers');
  });

  rtest(ctx, '[5] Chat client: two JSON and two streamed answers', async () => {
    const model = scriptedModel('gem-ids-chat');
    ctx.upstream.script(model, gemCallsJSON(), gemCallsJSON(), gemCallsSSE(), gemCallsSSE());
    const params = { model: `fakegem:${model}`, tools: chatTools(), messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }] };
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push((await ctx.openai().chat.completions.create(params)).choices[0]);
    for (let i = 0; i < 2; i++) {
      const { completion, chunks } = await chatStream(params);
      assertChatStream(chunks);
      answers.push(completion.choices[0]);
    }
    const all = [];
    for (const [i, choice] of answers.entries()) {
      const calls = choice.message.tool_calls ?? [];
      assert.deepEqual(calls.map((c) => JSON.parse(c.function.arguments)), GEM_CALLS.map((c) => c.args), `answer ${i}: ${JSON.stringify(choice)}`);
      assert.equal(choice.finish_reason, 'tool_calls', `answer ${i}`);
      assertDistinct(calls.map((c) => c.id), `answer ${i}`);
      all.push(...calls.map((c) => c.id));
    }
    assertDistinct(all, 'across the four answers');
  });
});

// ============================================================ 6. blocked Gemini prompt, passthrough

describe('6. a blocked Gemini prompt on passthrough', () => {
  rtest(ctx, '[6] Gemini client: the blockReason-only stream arrives with no error appended', async () => {
    const model = scriptedModel('gem-blocked');
    ctx.upstream.script(model, {
      sse: [{ data: { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 }, modelVersion: 'gemini-x' } }],
    });
    const { text, chunks } = await gemStream(`fakegem:${model}`, { contents: [{ role: 'user', parts: [{ text: 'something blocked' }] }] });
    assert.ok(chunks.length >= 1, `empty stream: ${JSON.stringify(text)}`);
    for (const c of chunks) assert.equal(c.error, undefined, `an error object in the stream: ${text}`);
    assert.ok(chunks.some((c) => c.promptFeedback?.blockReason === 'SAFETY'), text);
    assert.ok(!/error/i.test(text), `the stream mentions an error: ${text}`);
  });
});


describe('7. server-side tool items: a Responses upstream with web_search_call', () => {
  rtest(ctx, '[7 web_search_call] Chat client stream: finalChatCompletion() is the text, finish_reason stop', async () => {
    const model = scriptedModel('ws-resp-chat');
    ctx.upstream.script(model, webSearchResponses(model, { stream: true }));
    const { completion, chunks } = await chatStream({ model: `fakeresp:${model}`, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    assertChatStream(chunks);
    const choice = completion.choices[0];
    assert.equal(choice.message.content, WS_TEXT, JSON.stringify(choice));
    assert.equal(choice.finish_reason, 'stop');
    assert.equal((choice.message.tool_calls ?? []).length, 0, 'a server-side search became a client tool call');
  });

  rtest(ctx, '[7 web_search_call] Chat client JSON: the text, finish_reason stop', async () => {
    const model = scriptedModel('ws-resp-chat-json');
    ctx.upstream.script(model, webSearchResponses(model, { stream: false }));
    const r = await ctx.openai().chat.completions.create({ model: `fakeresp:${model}`, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    assert.equal(r.choices[0].message.content, WS_TEXT, JSON.stringify(r.choices[0]));
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal((r.choices[0].message.tool_calls ?? []).length, 0, 'a server-side search became a client tool call');
  });

  rtest(ctx, '[7 web_search_call] Messages client stream: finalMessage() has the text, end_turn', async () => {
    const model = scriptedModel('ws-resp-msg');
    ctx.upstream.script(model, webSearchResponses(model, { stream: true }));
    const { message, events } = await antStream({ model: `fakeresp:${model}`, max_tokens: 200, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    assertMessagesStream(events);
    assert.equal(message.content.filter((b) => b.type === 'text').map((b) => b.text).join(''), WS_TEXT, JSON.stringify(message.content));
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.content.filter((b) => b.type === 'tool_use').length, 0, 'a server-side search became a client tool_use');
  });

  rtest(ctx, '[7 web_search_call] Messages client JSON: the text, end_turn', async () => {
    const model = scriptedModel('ws-resp-msg-json');
    ctx.upstream.script(model, webSearchResponses(model, { stream: false }));
    const m = await ctx.anthropic().messages.create({ model: `fakeresp:${model}`, max_tokens: 200, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    assert.equal(m.content.filter((b) => b.type === 'text').map((b) => b.text).join(''), WS_TEXT, JSON.stringify(m.content));
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal(m.content.filter((b) => b.type === 'tool_use').length, 0, 'a server-side search became a client tool_use');
  });
});

describe('7. server-side tool items: a Messages upstream with server_tool_use + web_search_tool_result', () => {
  rtest(ctx, '[7 server_tool_use] Chat client stream: finalChatCompletion() is the text, finish_reason stop', async () => {
    const model = scriptedModel('ws-msg-chat');
    ctx.upstream.script(model, webSearchMessages(model, { stream: true }));
    const { completion, chunks } = await chatStream({ model: `fakeant:${model}`, max_tokens: 200, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    assertChatStream(chunks);
    const choice = completion.choices[0];
    assert.equal(choice.message.content, WS_TEXT, JSON.stringify(choice));
    assert.equal(choice.finish_reason, 'stop');
    assert.equal((choice.message.tool_calls ?? []).length, 0, 'a server_tool_use became a client tool call');
  });

  rtest(ctx, '[7 server_tool_use] Chat client JSON: the text, finish_reason stop', async () => {
    const model = scriptedModel('ws-msg-chat-json');
    ctx.upstream.script(model, webSearchMessages(model, { stream: false }));
    const r = await ctx.openai().chat.completions.create({ model: `fakeant:${model}`, max_tokens: 200, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    assert.equal(r.choices[0].message.content, WS_TEXT, JSON.stringify(r.choices[0]));
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal((r.choices[0].message.tool_calls ?? []).length, 0, 'a server_tool_use became a client tool call');
  });

  rtest(ctx, '[7 server_tool_use] Responses client stream: finalResponse() is completed with the text', async () => {
    const model = scriptedModel('ws-msg-resp');
    ctx.upstream.script(model, webSearchMessages(model, { stream: true }));
    const { response, events } = await respStream({ model: `fakeant:${model}`, max_output_tokens: 200, input: 'Weather in Paris?' });
    assertResponsesStream(events);
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, WS_TEXT, JSON.stringify(response.output));
    assert.equal(response.output.filter((o) => o.type === 'function_call').length, 0, 'a server_tool_use became a client function_call');
  });

  rtest(ctx, '[7 server_tool_use] Responses client JSON: completed with the text', async () => {
    const model = scriptedModel('ws-msg-resp-json');
    ctx.upstream.script(model, webSearchMessages(model, { stream: false }));
    const r = await ctx.openai().responses.create({ model: `fakeant:${model}`, max_output_tokens: 200, input: 'Weather in Paris?' });
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, WS_TEXT, JSON.stringify(r.output));
    assert.equal(r.output.filter((o) => o.type === 'function_call').length, 0, 'a server_tool_use became a client function_call');
  });
});

// ============================================================ 8. nothing after an upstream error event

describe('8. an upstream error event ends a passthrough stream', () => {

  rtest(ctx, '[8] Messages client: the stream throws one APIError with the upstream message, and the wire has one error event', async () => {
    const model = scriptedModel('ant-error');
    ctx.upstream.script(model, overloaded(model), overloaded(model));
    const params = { model: `fakeant:${model}`, max_tokens: 200, messages: [{ role: 'user', content: 'Hi' }] };
    const seen = [];
    const stream = ctx.anthropic().messages.stream(params);
    stream.on('streamEvent', (e) => seen.push(e.type));
    const errors = [];
    stream.on('error', (e) => errors.push(e));
    await assert.rejects(stream.finalMessage(), (e) => {
      assert.match(String(e.message), /Overloaded/, `error message: ${e.message}`);
      assert.equal(e.error?.error?.type, 'overloaded_error', `error body: ${JSON.stringify(e.error)}`);
      return true;
    });
    assert.equal(errors.length, 1, `error events: ${errors.map((e) => e.message)}`);
    assert.ok(!seen.includes('message_stop'), `events: ${seen}`);

    // The wire: exactly one error event, and it is the last event.
    const res = await fetch(`${ctx.router.baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ ...params, stream: true }),
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const { text, events } = await readSSE(res);
    assert.equal(res.status, 200, text);
    const names = events.map((e) => e.event);
    assert.equal(names.filter((n) => n === 'error').length, 1, `events: ${JSON.stringify(names)}\n${text}`);
    assert.equal(names.at(-1), 'error', `events after the error: ${JSON.stringify(names)}`);
    assert.equal(events.at(-1).data?.error?.message, 'Overloaded', text);
  });


  rtest(ctx, '[8] Responses client: finalResponse() is the failed response, and nothing follows response.failed', async () => {
    const model = scriptedModel('resp-failed');
    ctx.upstream.script(model, failed(model), failed(model));
    const { response, events } = await respStream({ model: `fakeresp:${model}`, input: 'Hi' });
    assertResponsesStream(events, 'response.failed');
    assert.equal(response.status, 'failed');
    assert.equal(response.error?.message, 'boom');

    const res = await fetch(`${ctx.router.baseURL}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: `fakeresp:${model}`, input: 'Hi', stream: true }),
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const raw = await readSSE(res);
    assert.equal(res.status, 200, raw.text);
    const names = raw.events.map((e) => e.event ?? e.data?.type);
    assert.equal(names.at(-1), 'response.failed', `events after response.failed: ${JSON.stringify(names)}\n${raw.text}`);
    assert.equal(names.filter((n) => ['response.completed', 'response.failed', 'response.incomplete', 'error'].includes(n)).length, 1, JSON.stringify(names));
  });

  rtest(ctx, '[8] Responses client: an upstream error event is the last event and the only one', async () => {
    const model = scriptedModel('resp-error');
    ctx.upstream.script(model, responsesErrorEvent(model), responsesErrorEvent(model));
    // The SDK yields a Responses `error` event (it throws only for data.error).
    const types = [];
    const stream = ctx.openai().responses.stream({ model: `fakeresp:${model}`, input: 'Hi' });
    stream.on('event', (e) => types.push(e.type));
    const outcome = await stream.finalResponse().then((r) => r, (e) => e);
    assert.ok(outcome instanceof Error || outcome.status !== 'completed', `a completed response after an error: ${JSON.stringify(outcome)}`);
    assert.equal(types.filter((t) => t === 'error').length, 1, `events: ${JSON.stringify(types)}`);
    assert.ok(!types.includes('response.completed') && !types.includes('response.failed'), `events: ${JSON.stringify(types)}`);

    const res = await fetch(`${ctx.router.baseURL}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: `fakeresp:${model}`, input: 'Hi', stream: true }),
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const raw = await readSSE(res);
    assert.equal(res.status, 200, raw.text);
    const names = raw.events.map((e) => e.event ?? e.data?.type);
    assert.deepEqual(names, ['response.created', 'error'], raw.text);
    assert.equal(raw.events.at(-1).data?.message, 'boom', raw.text);
  });

  rtest(ctx, '[8] Chat client: a mid-stream error object throws one APIError, and nothing follows it', async () => {
    const model = scriptedModel('chat-error');
    ctx.upstream.script(model, chatErrorMidStream(model), chatErrorMidStream(model));
    const params = { model: `fakeoai:${model}`, messages: [{ role: 'user', content: 'Hi' }] };
    const stream = ctx.openai().chat.completions.stream(params);
    const errors = [];
    stream.on('error', (e) => errors.push(e));
    await assert.rejects(stream.finalChatCompletion(), (e) => {
      assert.match(String(e.message), /upstream exploded/, `error message: ${e.message}`);
      return true;
    });
    assert.equal(errors.length, 1, `error events: ${errors.map((e) => e.message)}`);

    const res = await fetch(`${ctx.router.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ ...params, stream: true }),
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    const raw = await readSSE(res);
    assert.equal(res.status, 200, raw.text);
    const errs = raw.events.filter((e) => e.data && typeof e.data === 'object' && e.data.error);
    assert.equal(errs.length, 1, raw.text);
    assert.equal(raw.events.at(-1), errs[0], `events after the error: ${raw.text}`);
  });
});
