// Activation quantisers of every optimised level against the scalar spec, bit for bit:
// int8 values, scales and the sums the integer kernels use, over block counts 1..8,
// random, constant, zero, huge, tiny and exactly-half-way inputs. Plus the spec's own
// properties (|q| <= 127, error within half a step, sums as defined).
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/reference/act_quant_ref.h"

namespace wafer::kernels::test {
namespace {

std::vector<float> pattern_values(int pattern, size_t n, std::mt19937& rng) {
  std::vector<float> x = gaussian(n, rng);
  for (size_t i = 0; i < n; ++i) {
    switch (pattern) {
      case 1: x[i] = 0.0f; break;
      case 2: x[i] = -2.5f; break;
      case 3: x[i] *= 3e30f; break;
      case 4: x[i] *= 1e-30f; break;
      // max 127 makes the step exactly 1, so k + 0.5 values test round-half-to-even.
      case 5: x[i] = (i % 32 == 0) ? 127.0f : static_cast<float>(static_cast<int>(i % 9) - 4) + 0.5f; break;
      case 6: x[i] = (i % 50 == 3) ? 1e4f : x[i]; break;
      default: break;
    }
  }
  return x;
}

class ActQuantTest : public ::testing::TestWithParam<Isa> {};

TEST_P(ActQuantTest, Block32MatchesSpec) {
  const KernelTable* k = kernel_table_for(GetParam());
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  std::mt19937 rng(3);
  for (int pattern = 0; pattern < 7; ++pattern) {
    for (size_t cols = 32; cols <= 256; cols += 32) {
      const std::vector<float> x = pattern_values(pattern, cols + 1, rng);
      std::vector<int8_t> q(cols), q_ref(cols);
      std::vector<float> s(cols / 4), s_ref(cols / 4);
      std::vector<int32_t> n(cols / 4), n_ref(cols / 4);
      k->quantize_q8_block32(x.data() + 1, cols, q.data(), s.data(), n.data());
      wafer::reference::quantize_q8_block32(x.data() + 1, cols, q_ref.data(), s_ref.data(), n_ref.data());
      ASSERT_EQ(q, q_ref) << "pattern " << pattern << " cols " << cols;
      ASSERT_EQ(s, s_ref) << "pattern " << pattern << " cols " << cols;
      ASSERT_EQ(n, n_ref) << "pattern " << pattern << " cols " << cols;
    }
  }
}

TEST_P(ActQuantTest, Block256MatchesSpec) {
  const KernelTable* k = kernel_table_for(GetParam());
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  std::mt19937 rng(4);
  for (int pattern = 0; pattern < 7; ++pattern) {
    for (size_t cols = 256; cols <= 768; cols += 256) {
      const std::vector<float> x = pattern_values(pattern, cols + 3, rng);
      std::vector<int8_t> q(cols), q_ref(cols);
      std::vector<float> s(cols / 256), s_ref(cols / 256);
      std::vector<int16_t> g(cols / 16), g_ref(cols / 16);
      k->quantize_q8_block256(x.data() + 3, cols, q.data(), s.data(), g.data());
      wafer::reference::quantize_q8_block256(x.data() + 3, cols, q_ref.data(), s_ref.data(), g_ref.data());
      ASSERT_EQ(q, q_ref) << "pattern " << pattern << " cols " << cols;
      ASSERT_EQ(s, s_ref) << "pattern " << pattern << " cols " << cols;
      ASSERT_EQ(g, g_ref) << "pattern " << pattern << " cols " << cols;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, ActQuantTest, ::testing::ValuesIn(kOptimisedLevels),
                         [](const auto& info) { return isa_name(info.param); });

TEST(ActQuantSpec, WithinHalfAStepAndSumsAsDefined) {
  std::mt19937 rng(5);
  for (int pattern = 0; pattern < 7; ++pattern) {
    const size_t cols = 512;
    const std::vector<float> x = pattern_values(pattern, cols, rng);
    std::vector<int8_t> q(cols);
    std::vector<float> s(cols / 4), back(cols);
    std::vector<int32_t> n(cols / 4);
    wafer::reference::quantize_q8_block32(x.data(), cols, q.data(), s.data(), n.data());
    wafer::reference::dequantize_q8_block32(q.data(), s.data(), cols, back.data());
    for (size_t i = 0; i < cols; ++i) {
      ASSERT_LE(std::abs(q[i]), 127);
      ASSERT_LE(std::abs(back[i] - x[i]), 0.5f * s[i / 4] * (1.0f + 1e-5f) + 1e-38f) << i;
      ASSERT_EQ(s[i / 4], s[(i / 32) * 8]);  // one scale per block of 32
    }
    for (size_t l = 0; l < cols / 4; ++l) ASSERT_EQ(n[l], -(q[4 * l] + q[4 * l + 1] + q[4 * l + 2] + q[4 * l + 3]));
    if (pattern == 5) {  // step 1: 0.5 -> 0, 1.5 -> 2, -0.5 -> -0, -3.5 -> -4
      for (size_t i = 1; i < 32; ++i) {
        const float v = x[i];
        ASSERT_EQ(q[i], static_cast<int8_t>(std::nearbyint(v))) << v;
      }
    }
  }
}

TEST(ActQuantSpec, Block256GroupSums) {
  std::mt19937 rng(6);
  const std::vector<float> x = gaussian(768, rng, 5.0f);
  std::vector<int8_t> q(768);
  std::vector<float> s(3), back(768);
  std::vector<int16_t> g(48);
  wafer::reference::quantize_q8_block256(x.data(), 768, q.data(), s.data(), g.data());
  wafer::reference::dequantize_q8_block256(q.data(), s.data(), 768, back.data());
  for (size_t b = 0; b < 3; ++b) {
    float amax = 0.0f;
    for (size_t i = 0; i < 256; ++i) amax = std::max(amax, std::abs(x[256 * b + i]));
    EXPECT_EQ(s[b], amax / 127.0f);
  }
  for (size_t j = 0; j < 48; ++j) {
    int sum = 0;
    for (size_t i = 0; i < 16; ++i) sum += q[16 * j + i];
    EXPECT_EQ(g[j], sum);
  }
  for (size_t i = 0; i < 768; ++i) EXPECT_LE(std::abs(back[i] - x[i]), 0.5f * s[i / 256] * 1.00001f);
}

}  // namespace
}  // namespace wafer::kernels::test
