// Google Benchmarks of decode attention over a filled F16 KV cache: one token's query heads
// (or a speculative verify's tokens) against `ctx` positions of one layer, the work a decode
// step repeats in every layer. The
// shapes are Qwen2.5-Coder-0.5B's (14 query heads, 2 kv heads of 64) and 1.5B's (12, 2 of
// 128). bytes_per_second counts the keys and values read, to set beside the machine's read
// bandwidth: at long context this is what a decoded token pays beyond its weights.
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "base/thread_pool.h"
#include "bandwidth_context.h"
#include "model/attention.h"
#include "model/kv_cache.h"

namespace wafer {
namespace {

struct Shape {
  const char* name;
  int64_t n_head, n_head_kv, head_dim;
};

// Copies of one layer's cache, enough to exceed the last-level cache, so each iteration
// reads its keys and values from DRAM as a decode step does.
void BM_DecodeAttention(benchmark::State& state, Shape shape, bool from_dram) {
  const int64_t ctx = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const size_t tokens = state.range(2) > 0 ? static_cast<size_t>(state.range(2)) : 1;
  ModelConfig c;
  c.n_layer = 1;
  c.n_head = shape.n_head;
  c.n_head_kv = shape.n_head_kv;
  c.head_dim = shape.head_dim;
  const size_t layer_bytes = static_cast<size_t>(ctx * c.kv_dim() * 2 * 2);
  const size_t copies = from_dram ? (size_t{512} << 20) / layer_bytes + 1 : 1;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> k(c.kv_dim()), v(c.kv_dim());
  std::vector<KvCache> caches;
  for (size_t i = 0; i < copies; ++i) {
    caches.emplace_back(c, ctx + 1);
    caches.back().reserve_more(ctx + 1);
    for (int64_t p = 0; p < ctx; ++p) {
      for (auto* x : {&k, &v})
        for (float& e : *x) e = normal(rng);
      caches.back().write(0, p, k.data(), v.data());
    }
    caches.back().commit(ctx);
  }
  std::vector<float> q(tokens * c.q_dim()), out(tokens * c.q_dim());
  for (float& e : q) e = normal(rng);
  ThreadPool pool(threads);
  AttentionArgs a;
  a.q = q.data();
  a.out = out.data();
  a.layer = 0;
  a.start_pos = ctx - static_cast<int64_t>(tokens);
  a.num_tokens = tokens;
  a.n_head = c.n_head;
  a.n_head_kv = c.n_head_kv;
  a.head_dim = c.head_dim;
  a.scale = 0.125f;
  size_t i = 0;
  for (auto _ : state) {
    a.cache = &caches[i++ % copies];
    attention(a, pool);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * layer_bytes));
}

int register_all() {
  for (Shape s : {Shape{"0.5b", 14, 2, 64}, Shape{"1.5b", 12, 2, 128}}) {
    for (bool dram : {true, false}) {
      const std::string name = std::string(dram ? "decode_attention/" : "decode_attention_in_cache/") + s.name;
      benchmark::RegisterBenchmark(name.c_str(), BM_DecodeAttention, s, dram)
          ->ArgsProduct({{512, 2048, 8192}, {1, 2}, {1}})
          ->ArgNames({"ctx", "threads", "tokens"})
          ->UseRealTime();
    }
  }
  // A speculative verify: the 9 tokens of k = 8 drafts over bench spec's 3,600 positions,
  // against one token there.
  for (Shape s : {Shape{"0.5b", 14, 2, 64}})
    benchmark::RegisterBenchmark((std::string("verify_attention/") + s.name).c_str(), BM_DecodeAttention, s, true)
        ->ArgsProduct({{3600}, {2}, {1, 9}})
        ->ArgNames({"ctx", "threads", "tokens"})
        ->UseRealTime();
  return 0;
}

}  // namespace
}  // namespace wafer

int main(int argc, char** argv) {
  wafer::register_all();
  return wafer::run_benchmarks_with_bandwidth(argc, argv);
}
