// Google Benchmarks of the hot kernels on the active level (WAFER_ISA to compare levels):
// matrix-vector products at decode shapes (1 and 8 tokens) and prefill products (512
// tokens), per weight type and thread count. Counters: weight bytes/s and FLOP/s; the
// context carries the machine's measured read bandwidth, the ceiling for decode.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "base/half.h"
#include "bandwidth_context.h"
#include "kernels/ops.h"
#include "kernels/repack.h"
#include "quant/quant.h"

namespace wafer {
namespace {

// Weights of a type as random bytes with sane f16 scales (fast to make, any size).
std::vector<uint8_t> random_weights(DType type, size_t rows, size_t cols, uint64_t seed) {
  const size_t bytes = rows * row_bytes(type, cols);
  std::vector<uint8_t> w(bytes);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    std::memcpy(&w[i], &s, 8);
  }
  const DTypeTraits& tr = traits(type);
  const size_t nblocks = bytes / tr.block_bytes;
  const uint16_t scale = f32_to_f16(0.01f);
  for (size_t b = 0; b < nblocks; ++b) {
    uint8_t* p = &w[b * tr.block_bytes];
    switch (type) {
      case DType::kF16: std::memcpy(p, &scale, 2); break;  // keeps values finite
      case DType::kBF16: p[1] &= 0x3F; break;
      case DType::kF32: p[3] &= 0x3F; break;
      case DType::kQ8_0: case DType::kQ4_0: case DType::kQ5_0: std::memcpy(p, &scale, 2); break;
      case DType::kQ4_K: case DType::kQ5_K: std::memcpy(p, &scale, 2); std::memcpy(p + 2, &scale, 2); break;
      case DType::kQ6_K: std::memcpy(p + 208, &scale, 2); break;
      default: break;
    }
  }
  return w;
}

// Enough copies of a [rows, cols] matrix to exceed the 300 MiB last-level cache when
// `stream` is set, so decode numbers are DRAM numbers.
struct Fixture {
  std::vector<std::vector<uint8_t>> copies;
  std::vector<float> x, y;
};

void run_matmul(benchmark::State& state, DType type, size_t rows, size_t cols, size_t tokens,
                bool stream, bool repack = false) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  const size_t matrix_bytes = rows * row_bytes(type, cols);
  const size_t copies = stream ? (size_t{768} << 20) / matrix_bytes + 1 : 1;
  Fixture f;
  for (size_t i = 0; i < copies; ++i) f.copies.push_back(random_weights(type, rows, cols, i + 1));
  std::vector<WeightView> views;
  std::vector<WeightStorage> repacked(copies);
  for (size_t i = 0; i < copies; ++i) {
    views.push_back(WeightView{type, rows, cols, f.copies[i].data()});
    if (repack && !repack_weights(&views.back(), &repacked[i])) {
      state.SkipWithError("the active kernels keep this type in the file's layout");
      return;
    }
  }
  std::mt19937 rng(5);
  std::normal_distribution<float> dist;
  f.x.resize(tokens * cols);
  for (float& v : f.x) v = dist(rng);
  f.y.resize(tokens * rows);
  size_t i = 0;
  for (auto _ : state) {
    matmul(views[i++ % copies], f.x.data(), tokens, f.y.data(), pool);
    benchmark::DoNotOptimize(f.y.data());
  }
  const double iters = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(iters * matrix_bytes));
  state.counters["FLOP/s"] = benchmark::Counter(iters * 2.0 * rows * cols * tokens,
                                                benchmark::Counter::kIsRate);
  state.counters["tok/s_equiv"] = benchmark::Counter(iters * tokens, benchmark::Counter::kIsRate);
  state.SetLabel(kernel_isa_name());
}

// Shapes of Qwen2.5-Coder-1.5B: ffn_up [8960, 1536] streamed from DRAM for decode; a
// [2048, 1536] slice that stays in cache for kernel speed alone; prefill of 512 tokens.
void BM_Decode(benchmark::State& state, DType type, size_t tokens, bool repack) {
  run_matmul(state, type, 8960, 1536, tokens, true, repack);
}
// Qwen2.5-Coder-0.5B's ffn_up [4864, 896], Q5_0 in its Q4_K_M files (896 columns are not
// whole Q4_K super-blocks): 28 blocks a row.
void BM_Decode896(benchmark::State& state, DType type, size_t tokens, bool repack) {
  run_matmul(state, type, 4864, 896, tokens, true, repack);
}
void BM_DecodeInCache(benchmark::State& state, DType type) {
  run_matmul(state, type, 2048, 1536, 1, false);
}
void BM_DecodeInL2(benchmark::State& state, DType type, size_t tokens, bool repack) {
  run_matmul(state, type, 384, 1536, tokens, false, repack);
}
void BM_Prefill(benchmark::State& state, DType type) {
  run_matmul(state, type, 2048, 1536, 512, false);
}

// One decode token through Q, K and V of Qwen2.5-Coder-0.5B ([896|128|128, 896], Q8_0 as
// loaded: repacked where the level reads that), in cache: matmul_shared (one activation
// quantisation, one pool run) against three matmul calls. The difference is the fixed cost
// of a call, which decode pays ~200 times a token.
void BM_Qkv(benchmark::State& state, bool shared) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  const size_t cols = 896;
  const size_t rows[3] = {896, 128, 128};
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<WeightView> views;
  std::vector<WeightStorage> storage(3);
  std::vector<std::vector<float>> ys;
  for (int i = 0; i < 3; ++i) {
    bytes.push_back(random_weights(DType::kQ8_0, rows[i], cols, static_cast<uint64_t>(i + 1)));
    views.push_back(WeightView{DType::kQ8_0, rows[i], cols, bytes.back().data()});
    repack_weights(&views.back(), &storage[static_cast<size_t>(i)]);
    ys.emplace_back(rows[i]);
  }
  std::vector<float> x(cols, 0.5f);
  const MatmulTarget targets[3] = {{&views[0], ys[0].data()}, {&views[1], ys[1].data()}, {&views[2], ys[2].data()}};
  for (auto _ : state) {
    if (shared) {
      matmul_shared(targets, x.data(), 1, pool);
    } else {
      for (const MatmulTarget& t : targets) matmul(*t.w, x.data(), 1, t.y, pool);
    }
    benchmark::DoNotOptimize(ys[2].data());
  }
  state.SetLabel(kernel_isa_name());
}

const DType kTypes[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                        DType::kQ5_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

int register_all() {
  for (DType t : kTypes) {
    const std::string n(dtype_name(t));
    // Every type with a 16-row layout (kernels/repack.h) both in the file's layout and repacked.
    for (bool repack : {false, true}) {
      if (repack && kernels::rows16_layout(t) == WeightLayout::kRows) continue;
      const std::string name = repack ? n + "_rows16" : n;
      benchmark::RegisterBenchmark(("decode/" + name + "/tokens:1").c_str(), BM_Decode, t, size_t{1}, repack)
          ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
      benchmark::RegisterBenchmark(("decode/" + name + "/tokens:8").c_str(), BM_Decode, t, size_t{8}, repack)
          ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
      benchmark::RegisterBenchmark(("decode_896/" + name + "/tokens:1").c_str(), BM_Decode896, t, size_t{1}, repack)
          ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
      for (size_t tokens : {1, 4, 8, 9})
        benchmark::RegisterBenchmark(("decode_in_l2/" + name + "/tokens:" + std::to_string(tokens)).c_str(),
                                     BM_DecodeInL2, t, tokens, repack)
            ->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
    }
    benchmark::RegisterBenchmark(("decode_in_cache/" + n).c_str(), BM_DecodeInCache, t)
        ->Arg(1)->ArgName("threads")->UseRealTime();
    benchmark::RegisterBenchmark(("prefill512/" + n).c_str(), BM_Prefill, t)
        ->Arg(2)->ArgName("threads")->UseRealTime();
  }
  for (bool shared : {false, true})
    benchmark::RegisterBenchmark(shared ? "qkv_in_cache/shared" : "qkv_in_cache/separate", BM_Qkv, shared)
        ->Arg(2)->ArgName("threads")->UseRealTime();
  return 0;
}

}  // namespace
}  // namespace wafer

int main(int argc, char** argv) {
  wafer::register_all();
  return wafer::run_benchmarks_with_bandwidth(argc, argv, wafer::kernel_isa_name());
}
