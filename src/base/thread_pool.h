// A persistent pool of worker threads for data-parallel kernels: threads are created once,
// each parallel_for is a cheap dispatch plus a barrier (spin first, then sleep).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wafer {

class ThreadPool {
 public:
  // num_threads counts the calling thread, which takes part in every parallel_for.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Runs fn(thread_index) on every thread (0 = the caller) and returns when all are done.
  // Not reentrant: call from one thread at a time.
  void run(const std::function<void(int)>& fn);

  // Splits [0, n) into contiguous chunks, one per thread, rounded to multiples of `grain`.
  // fn(begin, end) runs for each non-empty chunk.
  void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

  // Workers stop spinning and sleep until the next run: for a caller that knows no run
  // follows soon (an engine with nothing to do), so the spin leaves the cores to others.
  void park() { park_.store(true, std::memory_order_relaxed); }

 private:
  void worker_loop(int index);

  int num_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> park_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace wafer
