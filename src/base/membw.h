// Measures the machine's memory read bandwidth on the spot, with the same threads the
// kernels use: the roofline decode speed is judged against.
#pragma once

#include <cstddef>

#include "base/large_buffer.h"
#include "base/thread_pool.h"

namespace wafer {

// A buffer well beyond the caches, in the same kind of pages as repacked weights, read in
// full by the pool's threads. Keep one to measure again and again (a shared machine's
// bandwidth moves from minute to minute).
class ReadBandwidthProbe {
 public:
  explicit ReadBandwidthProbe(ThreadPool& pool, size_t bytes = size_t{1} << 30);
  // Best of `passes` full reads, in GB/s.
  double measure(int passes = 3);

 private:
  ThreadPool& pool_;
  LargeBuffer buf_;
};

// One probe's best of `passes`.
double measure_read_bandwidth_gbs(ThreadPool& pool, size_t bytes = size_t{1} << 30, int passes = 6);

}  // namespace wafer
