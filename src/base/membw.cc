// A streaming read over a buffer larger than the last-level cache, split across threads.
#include "base/membw.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>

#include <emmintrin.h>

namespace wafer {
namespace {

uint64_t read_sum(const uint8_t* p, size_t bytes) {
  __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 64 <= bytes; i += 64) {
    a0 = _mm_add_epi64(a0, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i)));
    a1 = _mm_add_epi64(a1, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 16)));
    a2 = _mm_add_epi64(a2, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 32)));
    a3 = _mm_add_epi64(a3, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 48)));
  }
  __m128i s = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
  uint64_t out[2];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), s);
  return out[0] + out[1];
}

}  // namespace

ReadBandwidthProbe::ReadBandwidthProbe(ThreadPool& pool, size_t bytes) : pool_(pool), buf_(bytes / 4096 * 4096) {
  // First touch from the threads that will read, so pages are mapped before timing.
  uint8_t* p = buf_.data();
  pool_.parallel_for(buf_.size(), 1 << 20, [&](size_t b, size_t e) { std::memset(p + b, 1, e - b); });
}

double ReadBandwidthProbe::measure(int passes) {
  const uint8_t* p = buf_.data();
  std::atomic<uint64_t> sink{0};
  double best = 0.0;
  for (int pass = 0; pass < passes; ++pass) {
    auto t0 = std::chrono::steady_clock::now();
    pool_.parallel_for(buf_.size(), 1 << 20, [&](size_t b, size_t e) { sink += read_sum(p + b, e - b); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(buf_.size()) / s / 1e9);
  }
  return best;
}

double measure_read_bandwidth_gbs(ThreadPool& pool, size_t bytes, int passes) {
  return ReadBandwidthProbe(pool, bytes).measure(passes);
}

}  // namespace wafer
