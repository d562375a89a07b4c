// Measures the machine's memory read bandwidth on the spot, with the same threads the
// kernels use: the roofline decode speed is judged against.
#pragma once

#include <cstddef>

#include "base/thread_pool.h"

namespace wafer {

// Best of `passes` full reads of a `bytes`-sized buffer (well beyond the caches), in GB/s.
double measure_read_bandwidth_gbs(ThreadPool& pool, size_t bytes = size_t{1} << 30, int passes = 6);

}  // namespace wafer
