// Metrics: Prometheus text with cumulative histogram buckets and per-route counters.
#include <gtest/gtest.h>

#include "server/metrics.h"

namespace wafer::server {
namespace {

TEST(Metrics, CountersAndHistograms) {
  Metrics m;
  m.record_request("/v1/responses", 200);
  m.record_request("/v1/responses", 200);
  m.record_request("/v1/responses", 429);
  m.record_ttft(3.0);      // 0.003 s
  m.record_ttft(2000.0);   // 2 s
  m.record_inter_token(20.0);
  Usage usage{100, 60, 11};
  Timings timings;
  timings.decode_ms = 100.0;  // 10 tokens after the first in 0.1 s
  m.record_generation(usage, timings);
  m.connection_opened();
  EngineStats stats;
  stats.kv_bytes = 12345;
  const std::string text = m.render(stats);
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has(R"(wafer_http_requests_total{route="/v1/responses",status="200"} 2)")) << text;
  EXPECT_TRUE(has(R"(wafer_http_requests_total{route="/v1/responses",status="429"} 1)"));
  EXPECT_TRUE(has(R"(wafer_time_to_first_token_seconds_bucket{le="0.001"} 0)"));
  EXPECT_TRUE(has(R"(wafer_time_to_first_token_seconds_bucket{le="0.005"} 1)"));
  EXPECT_TRUE(has(R"(wafer_time_to_first_token_seconds_bucket{le="2.5"} 2)"));
  EXPECT_TRUE(has(R"(wafer_time_to_first_token_seconds_bucket{le="+Inf"} 2)"));
  EXPECT_TRUE(has("wafer_time_to_first_token_seconds_count 2"));
  EXPECT_TRUE(has("wafer_inter_token_seconds_count 1"));
  EXPECT_TRUE(has("wafer_cached_tokens_total 60"));
  EXPECT_TRUE(has("wafer_completion_tokens_total 11"));
  EXPECT_TRUE(has("wafer_decode_tokens_per_second 100"));
  EXPECT_TRUE(has("wafer_active_connections 1"));
  EXPECT_TRUE(has("wafer_kv_cache_bytes 12345"));
  EXPECT_TRUE(has("# TYPE wafer_inter_token_seconds histogram"));
}

}  // namespace
}  // namespace wafer::server
