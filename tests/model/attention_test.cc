// Attention implementations against the double-precision reference: GQA groups, head dims,
// prefill and single-token decode (split-K), F16 and F32 caches, tokens alone and together.
#include <random>

#include <gtest/gtest.h>

#include "kernels/cpu_features.h"
#include "model/attention.h"

namespace wafer {
namespace {

struct Shape {
  int64_t n_head, n_head_kv, head_dim, start_pos;
  size_t num_tokens;
};

// attend: the kernel under test, or null for attention_portable.
void check(const Shape& s, DType kv_type, int threads, AttendFn attend) {
  ModelConfig c;
  c.n_layer = 2;
  c.n_head = s.n_head;
  c.n_head_kv = s.n_head_kv;
  c.head_dim = s.head_dim;
  const int64_t total = s.start_pos + static_cast<int64_t>(s.num_tokens);
  KvCache cache(c, total, kv_type);
  ASSERT_TRUE(cache.reserve_more(total));
  std::mt19937 rng(static_cast<uint32_t>(total * 31 + s.head_dim));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> k(c.kv_dim()), v(c.kv_dim());
  for (int64_t p = 0; p < total; ++p) {
    for (auto& x : k) x = normal(rng) * 2;
    for (auto& x : v) x = normal(rng);
    cache.write(1, p, k.data(), v.data());
  }
  cache.commit(total);
  std::vector<float> q(s.num_tokens * c.q_dim());
  for (auto& x : q) x = normal(rng);
  std::vector<float> want(q.size()), got(q.size());
  AttentionArgs a;
  a.q = q.data();
  a.cache = &cache;
  a.layer = 1;
  a.start_pos = s.start_pos;
  a.num_tokens = s.num_tokens;
  a.n_head = s.n_head;
  a.n_head_kv = s.n_head_kv;
  a.head_dim = s.head_dim;
  a.scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  ThreadPool pool(threads);
  a.out = want.data();
  reference::attention(a, pool);
  a.out = got.data();
  auto run = [&](const AttentionArgs& args) {
    if (attend != nullptr) attention_with(args, pool, attend);
    else attention_portable(args, pool);
  };
  run(a);
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 2e-5f + 2e-5f * std::abs(want[i]))
        << "index " << i << " heads " << s.n_head << "/" << s.n_head_kv << " dim " << s.head_dim
        << " start " << s.start_pos << " tokens " << s.num_tokens << " threads " << threads;
  // Each token alone gives bit for bit what it gave among the others (batched decoding and
  // speculative verification rest on it).
  std::vector<float> alone(c.q_dim());
  for (size_t t = 0; t < s.num_tokens; t += 1 + s.num_tokens / 5) {
    AttentionArgs one = a;
    one.q = q.data() + t * c.q_dim();
    one.out = alone.data();
    one.start_pos = s.start_pos + static_cast<int64_t>(t);
    one.num_tokens = 1;
    run(one);
    ASSERT_TRUE(std::equal(alone.begin(), alone.end(), got.begin() + t * c.q_dim()))
        << "token " << t << " of " << s.num_tokens << " start " << s.start_pos << " threads " << threads;
  }
}

const Shape kShapes[] = {
    {4, 2, 64, 0, 1},     {14, 2, 64, 0, 29},   {14, 2, 64, 700, 1}, {12, 2, 128, 1500, 1},
    {8, 8, 32, 3, 5},     {28, 4, 128, 100, 17}, {4, 1, 16, 1030, 1}, {2, 2, 64, 0, 40},
    {14, 2, 64, 1020, 9}, {12, 2, 128, 500, 30}, {4, 2, 32, 0, 530},  // across chunks of the cache
};

TEST(Attention, PortableMatchesReference) {
  for (const Shape& s : kShapes)
    for (DType t : {DType::kF16, DType::kF32})
      for (int threads : {1, 2, 3}) check(s, t, threads, nullptr);
}

TEST(Attention, Avx512MatchesReference) {
  if (!detect_cpu_features().avx512) GTEST_SKIP() << "no AVX-512 on this CPU";
  for (const Shape& s : kShapes)
    if (s.head_dim % 16 == 0)
      for (int threads : {1, 2, 3}) check(s, DType::kF16, threads, attend_avx512_f16);
}

TEST(Attention, Avx2MatchesReference) {
  if (!detect_cpu_features().avx2) GTEST_SKIP() << "no AVX2 on this CPU";
  for (const Shape& s : kShapes)
    if (s.head_dim % 8 == 0)
      for (int threads : {1, 2, 3}) check(s, DType::kF16, threads, attend_avx2_f16);
}

}  // namespace
}  // namespace wafer
