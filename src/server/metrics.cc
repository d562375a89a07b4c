// Metrics: plain counters under one mutex; rendering builds the whole text page at once.
#include "server/metrics.h"

#include <fmt/format.h>

namespace wafer::server {

void Histogram::observe(double seconds) {
  for (size_t i = 0; i < kBoundsS.size(); ++i) {
    if (seconds <= kBoundsS[i]) {
      ++counts_[i];
      break;
    }
  }
  ++count_;
  sum_s_ += seconds;
}

void Histogram::render(std::string& out, std::string_view name) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBoundsS.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBoundsS[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_s_, name, count_);
}

void Metrics::record_request(std::string_view route, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), status}];
}

void Metrics::record_ttft(double ms) {
  std::lock_guard lock(mutex_);
  ttft_.observe(ms / 1000.0);
}

void Metrics::record_inter_token(double ms) {
  std::lock_guard lock(mutex_);
  inter_token_.observe(ms / 1000.0);
}

void Metrics::record_generation(const Usage& usage, const Timings& timings) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += static_cast<uint64_t>(usage.prompt_tokens);
  cached_tokens_ += static_cast<uint64_t>(usage.cached_tokens);
  completion_tokens_ += static_cast<uint64_t>(usage.completion_tokens);
  if (usage.completion_tokens > 1 && timings.decode_ms > 0)
    last_decode_tps_ = static_cast<double>(usage.completion_tokens - 1) * 1000.0 / timings.decode_ms;
}

namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string Metrics::render(const EngineStats& stats, size_t encode_memo_hits) const {
  std::string out;
  std::lock_guard lock(mutex_);
  header(out, "wafer_http_requests_total", "counter", "HTTP requests and WebSocket messages answered, by route and status.");
  for (const auto& [key, count] : requests_)
    out += fmt::format("wafer_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, count);
  header(out, "wafer_time_to_first_token_seconds", "histogram", "Submit to first generated token.");
  ttft_.render(out, "wafer_time_to_first_token_seconds");
  header(out, "wafer_inter_token_seconds", "histogram", "Gap between streamed tokens.");
  inter_token_.render(out, "wafer_inter_token_seconds");
  header(out, "wafer_prompt_tokens_total", "counter", "Prompt tokens of finished requests.");
  out += fmt::format("wafer_prompt_tokens_total {}\n", prompt_tokens_);
  header(out, "wafer_cached_tokens_total", "counter", "Prompt tokens served from the KV cache.");
  out += fmt::format("wafer_cached_tokens_total {}\n", cached_tokens_);
  header(out, "wafer_completion_tokens_total", "counter", "Generated tokens of finished requests.");
  out += fmt::format("wafer_completion_tokens_total {}\n", completion_tokens_);
  header(out, "wafer_decode_tokens_per_second", "gauge", "Decode speed of the last finished request.");
  out += fmt::format("wafer_decode_tokens_per_second {}\n", last_decode_tps_);
  header(out, "wafer_active_connections", "gauge", "Open HTTP and WebSocket connections.");
  out += fmt::format("wafer_active_connections {}\n", connections_.load());
  header(out, "wafer_engine_prefill_tokens_total", "counter", "Prompt tokens computed by the engine.");
  out += fmt::format("wafer_engine_prefill_tokens_total {}\n", stats.prefill_tokens);
  header(out, "wafer_engine_cached_tokens_total", "counter", "Prompt tokens the engine reused from KV caches.");
  out += fmt::format("wafer_engine_cached_tokens_total {}\n", stats.cached_tokens);
  header(out, "wafer_engine_decoded_tokens_total", "counter", "Tokens decoded by the engine.");
  out += fmt::format("wafer_engine_decoded_tokens_total {}\n", stats.decoded_tokens);
  header(out, "wafer_engine_requests_finished_total", "counter", "Requests the engine finished.");
  out += fmt::format("wafer_engine_requests_finished_total {}\n", stats.requests_finished);
  header(out, "wafer_engine_active_requests", "gauge", "Queued and running engine requests.");
  out += fmt::format("wafer_engine_active_requests {}\n", stats.active_requests);
  header(out, "wafer_kv_cache_bytes", "gauge", "KV cache memory held by the engine.");
  out += fmt::format("wafer_kv_cache_bytes {}\n", stats.kv_bytes);
  header(out, "wafer_prefix_cache_bytes", "gauge", "Shared prefix cache memory (part of wafer_kv_cache_bytes).");
  out += fmt::format("wafer_prefix_cache_bytes {}\n", stats.prefix_cache_bytes);
  header(out, "wafer_prefix_cache_blocks", "gauge", "Blocks held by the shared prefix cache.");
  out += fmt::format("wafer_prefix_cache_blocks {}\n", stats.prefix_cache_blocks);
  header(out, "wafer_prefix_cache_evictions_total", "counter", "Prefix cache blocks evicted to stay within --kv-cache-mb.");
  out += fmt::format("wafer_prefix_cache_evictions_total {}\n", stats.prefix_cache_evictions);
  header(out, "wafer_engine_busy_seconds_total", "counter",
         "Engine time spent on requests, from taking one off the queue to its last event.");
  out += fmt::format("wafer_engine_busy_seconds_total {}\n", stats.busy_ms_total / 1000.0);
  header(out, "wafer_engine_prefill_seconds_total", "counter", "Engine time spent computing or restoring prompts.");
  out += fmt::format("wafer_engine_prefill_seconds_total {}\n", stats.prefill_ms_total / 1000.0);
  header(out, "wafer_engine_decode_step_seconds_total", "counter", "Engine time in decode forward passes.");
  out += fmt::format("wafer_engine_decode_step_seconds_total {}\n", stats.decode_step_ms_total / 1000.0);
  header(out, "wafer_engine_decode_steps_total", "counter", "Decode forward passes (one or more tokens each).");
  out += fmt::format("wafer_engine_decode_steps_total {}\n", stats.decode_steps);
  const double tps = stats.decode_step_ms_total > 0
                         ? static_cast<double>(stats.decode_steps) * 1000.0 / stats.decode_step_ms_total
                         : 0.0;
  header(out, "wafer_engine_decode_tokens_per_second", "gauge", "Mean single-sequence decode speed.");
  out += fmt::format("wafer_engine_decode_tokens_per_second {}\n", tps);
  header(out, "wafer_tokenizer_memo_hits_total", "counter",
         "Texts of resent or continued conversations whose token ids came from memory, not the tokenizer.");
  out += fmt::format("wafer_tokenizer_memo_hits_total {}\n", encode_memo_hits);
  return out;
}

}  // namespace wafer::server
