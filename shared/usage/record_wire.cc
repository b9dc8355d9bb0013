#include "shared/usage/record_wire.h"

namespace bitrouter::usage {

UsageRecord FromWire(const v1::UsageRecord& in) {
  UsageRecord r;
  r.request_id = in.request_id();
  r.time_unix_ms = in.time_unix_ms();
  r.key_id = in.key_id();
  r.client_protocol = in.client_protocol();
  r.model_requested = in.model_requested();
  r.provider = in.provider();
  r.upstream_model = in.upstream_model();
  r.upstream_protocol = in.upstream_protocol();
  r.attempts.reserve(in.attempts_size());
  for (const v1::UsageAttempt& a : in.attempts()) {
    r.attempts.push_back({a.endpoint(), a.http_status(), a.failure(), a.latency_us()});
  }
  r.final_status = in.final_status();
  r.streamed = in.streamed();
  r.bytes_in = in.bytes_in();
  r.bytes_out = in.bytes_out();
  if (in.has_ttfb()) r.time_to_first_byte_us = in.time_to_first_byte_us();
  r.total_latency_us = in.total_latency_us();
  r.router_overhead_us = in.router_overhead_us();
  r.prompt_tokens = in.prompt_tokens();
  r.completion_tokens = in.completion_tokens();
  r.reasoning_tokens = in.reasoning_tokens();
  r.cache_read_tokens = in.cache_read_tokens();
  r.cache_write_tokens = in.cache_write_tokens();
  r.usage_origin = in.estimated() ? UsageOrigin::kEstimated : UsageOrigin::kProvider;
  if (in.has_cost()) r.cost_micro_usd = in.cost_micro_usd();
  r.guardrails = in.guardrails();
  r.route_category = in.route_category();
  r.route_model = in.route_model();
  return r;
}

void ToWire(const UsageRecord& in, v1::UsageRecord* out) {
  out->set_request_id(in.request_id);
  out->set_time_unix_ms(in.time_unix_ms);
  out->set_key_id(in.key_id);
  out->set_client_protocol(in.client_protocol);
  out->set_model_requested(in.model_requested);
  out->set_provider(in.provider);
  out->set_upstream_model(in.upstream_model);
  out->set_upstream_protocol(in.upstream_protocol);
  for (const UsageAttempt& a : in.attempts) {
    v1::UsageAttempt* w = out->add_attempts();
    w->set_endpoint(a.endpoint);
    w->set_http_status(a.http_status);
    w->set_failure(a.failure);
    w->set_latency_us(a.latency_us);
  }
  out->set_final_status(in.final_status);
  out->set_streamed(in.streamed);
  out->set_bytes_in(in.bytes_in);
  out->set_bytes_out(in.bytes_out);
  out->set_has_ttfb(in.time_to_first_byte_us.has_value());
  out->set_time_to_first_byte_us(in.time_to_first_byte_us.value_or(0));
  out->set_total_latency_us(in.total_latency_us);
  out->set_router_overhead_us(in.router_overhead_us);
  out->set_prompt_tokens(in.prompt_tokens);
  out->set_completion_tokens(in.completion_tokens);
  out->set_reasoning_tokens(in.reasoning_tokens);
  out->set_cache_read_tokens(in.cache_read_tokens);
  out->set_cache_write_tokens(in.cache_write_tokens);
  out->set_estimated(in.usage_origin == UsageOrigin::kEstimated);
  out->set_has_cost(in.cost_micro_usd.has_value());
  out->set_cost_micro_usd(in.cost_micro_usd.value_or(0));
  out->set_guardrails(in.guardrails);
  out->set_route_category(in.route_category);
  out->set_route_model(in.route_model);
}

}  // namespace bitrouter::usage
