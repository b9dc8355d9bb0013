// Exact upstream transcripts for fidelity.test.mjs (issue 11): legal but
// unusual answers in each protocol's wire shape, as replies for the fake
// upstream's `script` (fake_upstream.mjs). fake_upstream.test.mjs feeds the
// same transcripts to the official SDKs directly, so a fidelity failure is
// the router's, not the transcript's.

import { USAGE } from './fake_upstream.mjs';

// ------------------------------------------------------------ tools

export const TOOLS = [
  { name: 'get_weather', description: 'Current weather for a city', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  { name: 'get_time', description: 'Current time in a time zone', schema: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] } },
];
export const antTools = () => TOOLS.map((t) => ({ name: t.name, description: t.description, input_schema: t.schema }));
export const chatTools = () => TOOLS.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.schema } }));
export const respTools = () => TOOLS.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.schema }));
export const gemTools = () => [{ functionDeclarations: TOOLS.map((t) => ({ name: t.name, description: t.description, parameters: t.schema })) }];

// ------------------------------------------------------------ upstream transcripts

export const CHAT_USAGE = { prompt_tokens: USAGE.in, completion_tokens: USAGE.out, total_tokens: USAGE.in + USAGE.out };

// A Chat Completions SSE reply: one chunk per {delta, finish}, a usage chunk, [DONE].
export function chatSSE(model, steps) {
  const id = 'chatcmpl-scripted';
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices, extra = {}) => ({ data: { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_s', choices, ...extra } });
  return {
    sse: [
      ...steps.map((s) => chunk([{ index: 0, delta: s.delta ?? {}, logprobs: null, finish_reason: s.finish ?? null }])),
      chunk([], { usage: CHAT_USAGE }),
      'data: [DONE]\n\n',
    ],
  };
}

export function chatJSON(model, message, finish) {
  return {
    json: {
      id: 'chatcmpl-scripted', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
      choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason: finish }],
      usage: CHAT_USAGE,
    },
  };
}

// Named SSE events ({event, data:{type, ...}}) as Messages and Responses send them.
export const ev = (type, data = {}) => ({ event: type, data: { type, ...data } });

export function messageStart(model) {
  return ev('message_start', {
    message: {
      id: 'msg_scripted', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: USAGE.in, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  });
}

export function messageEnd(stopReason, usage = {}) {
  return [ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: USAGE.out, ...usage } }), ev('message_stop')];
}

export function messagesJSON(model, content, stopReason, usage = {}) {
  return {
    json: {
      id: 'msg_scripted', type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null,
      usage: { input_tokens: USAGE.in, output_tokens: USAGE.out, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...usage },
    },
  };
}

export const RESP_USAGE = {
  input_tokens: USAGE.in, input_tokens_details: { cached_tokens: 0 },
  output_tokens: USAGE.out, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: USAGE.in + USAGE.out,
};

export function responseObject(model, status, output, extra = {}) {
  return {
    id: 'resp_scripted', object: 'response', created_at: Math.floor(Date.now() / 1000), status, model, output,
    error: null, incomplete_details: null, instructions: null, parallel_tool_calls: true, tool_choice: 'auto', tools: [],
    temperature: 1, top_p: 1, metadata: {}, text: { format: { type: 'text' } },
    usage: status === 'in_progress' ? null : RESP_USAGE, ...extra,
  };
}

// Responses SSE events with sequence numbers.
export function responsesSSE(events) {
  return { sse: events.map(([type, data], i) => ev(type, { sequence_number: i, ...data })) };
}

// ============================================================ 1. interleaved parallel tool calls

// Chat upstream: two tool calls whose deltas interleave by index, and one
// delta that carries pieces of both in one tool_calls array.
export function interleavedToolCalls(model) {
  return chatSSE(model, [
    { delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '' } }] } },
    { delta: { tool_calls: [{ index: 1, id: 'call_t', type: 'function', function: { name: 'get_time', arguments: '' } }] } },
    { delta: { tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] } },
    { delta: { tool_calls: [{ index: 1, function: { arguments: '{"tz":' } }] } },
    { delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Pa' } }, { index: 1, function: { arguments: '"Europe/' } }] } },
    { delta: { tool_calls: [{ index: 1, function: { arguments: 'Paris"}' } }] } },
    { delta: { tool_calls: [{ index: 0, function: { arguments: 'ris"}' } }] } },
    { finish: 'tool_calls' },
  ]);
}
export const INTERLEAVED = [
  { name: 'get_weather', input: { city: 'Paris' } },
  { name: 'get_time', input: { tz: 'Europe/Paris' } },
];

// ============================================================ 2. empty tool input

// Messages upstream: a tool_use whose only input_json_delta is "", and one
// with no delta at all.
export function emptyToolInputs(model) {
  return {
    sse: [
      messageStart(model),
      ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: {} } }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '' } }),
      ev('content_block_stop', { index: 0 }),
      ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_b', name: 'get_time', input: {} } }),
      ev('content_block_stop', { index: 1 }),
      ...messageEnd('tool_use'),
    ],
  };
}

// ============================================================ 3. tool calls closed by "stop"

export function toolCallsThenStop(model) {
  return chatSSE(model, [
    { delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_v', type: 'function', function: { name: 'get_weather', arguments: '' } }] } },
    { delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] } },
    { delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] } },
    { finish: 'stop' },
  ]);
}
export const VLLM_MESSAGE = { content: null, tool_calls: [{ id: 'call_v', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] };

// ============================================================ 4. reasoning in JSON answers

export const REASONING = 'The user wants a greeting; keep it short.';
export const ANSWER = 'Hello!';

// ============================================================ 5. tool-call ids that repeat (Gemini)

// Two calls to the same function, no responseId, no functionCall ids.
export const GEM_CALLS = [{ name: 'get_weather', args: { city: 'Paris' } }, { name: 'get_weather', args: { city: 'Rome' } }];
export const GEM_USAGE = { promptTokenCount: USAGE.in, candidatesTokenCount: USAGE.out, totalTokenCount: USAGE.in + USAGE.out };

export function gemCallsJSON() {
  return {
    json: {
      candidates: [{ content: { role: 'model', parts: GEM_CALLS.map((c) => ({ functionCall: c })) }, finishReason: 'STOP', index: 0 }],
      usageMetadata: GEM_USAGE, modelVersion: 'gemini-x',
    },
  };
}

export function gemCallsSSE() {
  return {
    sse: [
      { data: { candidates: [{ content: { role: 'model', parts: [{ functionCall: GEM_CALLS[0] }] }, index: 0 }], modelVersion: 'gemini-x' } },
      { data: { candidates: [{ content: { role: 'model', parts: [{ functionCall: GEM_CALLS[1] }] }, finishReason: 'STOP', index: 0 }], usageMetadata: GEM_USAGE, modelVersion: 'gemini-x' } },
    ],
  };
}

// ============================================================ 7. server-side tool items (web search)

export const WS_QUERY = 'weather Paris today';
export const WS_URL = 'https://example.com/paris-weather';
export const WS_TITLE = 'Paris weather';
export const WS_TEXT = 'It is sunny in Paris, 21 C.';

export function webSearchResponses(model, { stream }) {
  const search = { type: 'web_search_call', id: 'ws_scripted', status: 'completed', action: { type: 'search', query: WS_QUERY, sources: [{ type: 'url', url: WS_URL }] } };
  const annotation = { type: 'url_citation', start_index: 0, end_index: WS_TEXT.length, url: WS_URL, title: WS_TITLE };
  const part = { type: 'output_text', text: WS_TEXT, annotations: [annotation], logprobs: [] };
  const message = { type: 'message', id: 'msg_scripted', status: 'completed', role: 'assistant', content: [part] };
  const done = responseObject(model, 'completed', [search, message], { tools: [{ type: 'web_search' }] });
  if (!stream) return { json: done };
  const started = responseObject(model, 'in_progress', []);
  const mid = 'msg_scripted';
  return responsesSSE([
    ['response.created', { response: started }],
    ['response.in_progress', { response: started }],
    ['response.output_item.added', { output_index: 0, item: { type: 'web_search_call', id: 'ws_scripted', status: 'in_progress', action: { type: 'search' } } }],
    ['response.web_search_call.in_progress', { output_index: 0, item_id: 'ws_scripted' }],
    ['response.web_search_call.searching', { output_index: 0, item_id: 'ws_scripted' }],
    ['response.web_search_call.completed', { output_index: 0, item_id: 'ws_scripted' }],
    ['response.output_item.done', { output_index: 0, item: search }],
    ['response.output_item.added', { output_index: 1, item: { ...message, status: 'in_progress', content: [] } }],
    ['response.content_part.added', { item_id: mid, output_index: 1, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }],
    ['response.output_text.delta', { item_id: mid, output_index: 1, content_index: 0, delta: WS_TEXT.slice(0, 10), logprobs: [] }],
    ['response.output_text.delta', { item_id: mid, output_index: 1, content_index: 0, delta: WS_TEXT.slice(10), logprobs: [] }],
    ['response.output_text.annotation.added', { item_id: mid, output_index: 1, content_index: 0, annotation_index: 0, annotation }],
    ['response.output_text.done', { item_id: mid, output_index: 1, content_index: 0, text: WS_TEXT, logprobs: [] }],
    ['response.content_part.done', { item_id: mid, output_index: 1, content_index: 0, part }],
    ['response.output_item.done', { output_index: 1, item: message }],
    ['response.completed', { response: done }],
  ]);
}

export function webSearchMessages(model, { stream }) {
  const input = { query: WS_QUERY };
  const results = [{ type: 'web_search_result', url: WS_URL, title: WS_TITLE, encrypted_content: 'EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5', page_age: '1 day ago' }];
  const citation = { type: 'web_search_result_location', url: WS_URL, title: WS_TITLE, encrypted_index: 'Eo8BCioIAhgBIiQyYjQ0', cited_text: 'Sunny, 21 C' };
  const serverUse = { type: 'server_tool_use', id: 'srvtoolu_scripted', name: 'web_search', input };
  const result = { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_scripted', content: results };
  const usage = { server_tool_use: { web_search_requests: 1 } };
  if (!stream) return messagesJSON(model, [serverUse, result, { type: 'text', text: WS_TEXT, citations: [citation] }], 'end_turn', usage);
  const q = JSON.stringify(input);
  return {
    sse: [
      messageStart(model),
      ev('content_block_start', { index: 0, content_block: { ...serverUse, input: {} } }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: q.slice(0, 9) } }),
      ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: q.slice(9) } }),
      ev('content_block_stop', { index: 0 }),
      ev('content_block_start', { index: 1, content_block: result }),
      ev('content_block_stop', { index: 1 }),
      ev('content_block_start', { index: 2, content_block: { type: 'text', text: '', citations: [] } }),
      ev('content_block_delta', { index: 2, delta: { type: 'citations_delta', citation } }),
      ev('content_block_delta', { index: 2, delta: { type: 'text_delta', text: WS_TEXT.slice(0, 10) } }),
      ev('content_block_delta', { index: 2, delta: { type: 'text_delta', text: WS_TEXT.slice(10) } }),
      ev('content_block_stop', { index: 2 }),
      ...messageEnd('end_turn', usage),
    ],
  };
}

// ============================================================ 8. upstream error events

// Messages: an error event mid-stream (after some text).
export function overloaded(model) {
  return {
    sse: [
      messageStart(model),
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Partial ans' } }),
      ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
    ],
  };
}

// Responses: the response fails.
export function failed(model) {
  const started = responseObject(model, 'in_progress', []);
  const dead = responseObject(model, 'failed', [], { error: { code: 'server_error', message: 'boom' } });
  return responsesSSE([
    ['response.created', { response: started }],
    ['response.in_progress', { response: started }],
    ['response.failed', { response: dead }],
  ]);
}

// Responses: an `error` event after response.created.
export function responsesErrorEvent(model) {
  const started = responseObject(model, 'in_progress', []);
  return responsesSSE([
    ['response.created', { response: started }],
    ['error', { code: 'server_error', message: 'boom', param: null }],
  ]);
}

// Chat: some text, then an error object instead of a chunk, and the end.
export function chatErrorMidStream(model) {
  const { sse } = chatSSE(model, [{ delta: { role: 'assistant', content: 'Partial ans' } }]);
  return {
    sse: [sse[0], { data: { error: { message: 'upstream exploded', type: 'server_error', param: null, code: null } } }],
  };
}
