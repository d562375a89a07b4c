// ThreadPool: every run reaches every thread exactly once, parallel_for covers its range
// exactly once, and parked workers (asleep without spinning) still take the next run.
#include "base/thread_pool.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace wafer {
namespace {

// Runs `runs` times and checks each thread index took part in every one.
void expect_every_thread_runs(ThreadPool& pool, int runs) {
  std::vector<std::atomic<int>> seen(static_cast<size_t>(pool.num_threads()));
  for (int r = 0; r < runs; ++r) pool.run([&](int t) { seen[static_cast<size_t>(t)].fetch_add(1); });
  for (int t = 0; t < pool.num_threads(); ++t) EXPECT_EQ(seen[static_cast<size_t>(t)].load(), runs) << "thread " << t;
}

TEST(ThreadPoolTest, EveryThreadTakesEveryRun) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    expect_every_thread_runs(pool, 200);
  }
}

TEST(ThreadPoolTest, ParallelForCoversTheRangeOnce) {
  ThreadPool pool(3);
  for (size_t n : {size_t{1}, size_t{7}, size_t{64}, size_t{1000}}) {
    for (size_t grain : {size_t{1}, size_t{16}, size_t{100}}) {
      std::vector<std::atomic<int>> hits(n);
      pool.parallel_for(n, grain, [&](size_t begin, size_t end) {
        EXPECT_LT(begin, end);
        EXPECT_EQ(begin % grain, 0u) << "chunks start on a grain";
        for (size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
      });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " grain=" << grain << " i=" << i;
    }
  }
}

TEST(ThreadPoolTest, ParkedWorkersTakeTheNextRun) {
  ThreadPool pool(3);
  expect_every_thread_runs(pool, 10);
  pool.park();  // at once, while the workers may still be spinning
  expect_every_thread_runs(pool, 10);
  pool.park();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // long asleep by now
  expect_every_thread_runs(pool, 10);
  for (int i = 0; i < 100; ++i) {  // park between every run
    pool.park();
    expect_every_thread_runs(pool, 1);
  }
}

}  // namespace
}  // namespace wafer
