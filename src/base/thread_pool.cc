// Persistent worker pool: a generation counter publishes each task, workers spin briefly
// before sleeping so back-to-back kernels (one per layer op) do not pay a wake-up each.
#include "base/thread_pool.h"

#include <algorithm>

#include "base/check.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define WAFER_PAUSE() _mm_pause()
#else
#define WAFER_PAUSE() ((void)0)
#endif

namespace wafer {
namespace {
// About 0.2 ms of PAUSEs (longer than the gaps between the ops of a forward, shorter than
// the engine's work between forwards). Spinning longer took a core from the server's I/O
// thread after every decode step on a 2-core machine (1 << 16 was about 1.2 ms).
constexpr int kSpinIterations = 1 << 13;
}

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)) {
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run(const std::function<void(int)>& fn) {
  if (num_threads_ == 1) {
    fn(0);
    return;
  }
  task_ = &fn;
  park_.store(false, std::memory_order_relaxed);
  pending_.store(num_threads_ - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  fn(0);
  while (pending_.load(std::memory_order_acquire) != 0) WAFER_PAUSE();
  task_ = nullptr;
}

void ThreadPool::parallel_for(size_t n, size_t grain,
                              const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  const size_t num_grains = (n + grain - 1) / grain;
  const size_t workers = std::min<size_t>(num_threads_, num_grains);
  if (workers <= 1) {
    fn(0, n);
    return;
  }
  run([&](int t) {
    const size_t g0 = num_grains * t / workers;
    const size_t g1 = num_grains * (t + 1) / workers;
    const size_t begin = std::min(n, g0 * grain);
    const size_t end = std::min(n, g1 * grain);
    if (static_cast<size_t>(t) < workers && begin < end) fn(begin, end);
  });
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations && !park_.load(std::memory_order_relaxed); ++spin) {
      WAFER_PAUSE();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    (*task_)(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace wafer
