// Prometheus counters and histograms for GET /metrics: requests by route and status, time to
// first token, inter-token latency, token counts and open connections. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "wafer/engine.h"

namespace wafer::server {

// A cumulative histogram over fixed bucket bounds, in seconds.
class Histogram {
 public:
  static constexpr std::array<double, 14> kBoundsS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1.0,   2.5,  5.0,  10.0, 30.0};
  void observe(double seconds);
  // Appends the _bucket/_sum/_count lines for `name`.
  void render(std::string& out, std::string_view name) const;

 private:
  std::array<uint64_t, kBoundsS.size()> counts_{};  // non-cumulative; summed when rendered
  uint64_t count_ = 0;
  double sum_s_ = 0;
};

class Metrics {
 public:
  void record_request(std::string_view route, int status);
  void record_ttft(double ms);
  void record_inter_token(double ms);
  // One finished generation: its token counts and decode speed.
  void record_generation(const Usage& usage, const Timings& timings);
  void connection_opened() { connections_.fetch_add(1); }
  void connection_closed() { connections_.fetch_sub(1); }
  int64_t active_connections() const { return connections_.load(); }

  // The Prometheus text exposition (version 0.0.4), engine figures included.
  std::string render(const EngineStats& stats, size_t encode_memo_hits = 0) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status) -> count
  Histogram ttft_;
  Histogram inter_token_;
  uint64_t prompt_tokens_ = 0;
  uint64_t cached_tokens_ = 0;
  uint64_t completion_tokens_ = 0;
  double last_decode_tps_ = 0;
  std::atomic<int64_t> connections_{0};
};

}  // namespace wafer::server
