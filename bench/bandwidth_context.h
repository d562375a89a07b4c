// main() of the Google Benchmark binaries that report bytes/s: the machine's read bandwidth
// with 2 threads, measured once, goes into the context, so the figures read against the
// ceiling of the same run.
#pragma once

#include <string>

#include <benchmark/benchmark.h>

#include "base/membw.h"
#include "base/thread_pool.h"

namespace wafer {

// Runs the benchmarks registered so far; `isa`, when given, names the kernel level in the
// context too.
inline int run_benchmarks_with_bandwidth(int argc, char** argv, const char* isa = nullptr) {
  benchmark::Initialize(&argc, argv);
  {
    ThreadPool pool(2);
    benchmark::AddCustomContext("read_bandwidth_gbs_2_threads",
                                std::to_string(measure_read_bandwidth_gbs(pool, size_t{1} << 30, 4)));
  }
  if (isa != nullptr) benchmark::AddCustomContext("kernel_isa", isa);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace wafer
