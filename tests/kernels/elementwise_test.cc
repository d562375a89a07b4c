// RMS norm and SiLU-gated product on every level against a float64 evaluation of their
// definitions: lengths 0..3x the vector width and beyond, in place and out of place,
// misaligned, with large, tiny and saturating inputs.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/reference/elementwise_ref.h"

namespace wafer::kernels::test {
namespace {

class ElementwiseTest : public ::testing::TestWithParam<Isa> {
 protected:
  const KernelTable* table() const { return kernel_table_for(GetParam()); }
};

TEST_P(ElementwiseTest, SiluMul) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  std::mt19937 rng(21);
  for (float scale : {1.0f, 8.0f, 60.0f, 200.0f}) {
    for (size_t n = 0; n <= 67; ++n) {
      std::vector<float> g = gaussian(n + 1, rng, scale), u = gaussian(n + 1, rng);
      std::vector<float> out(n + 1, -7.0f);
      k->silu_mul(g.data() + 1, u.data() + 1, n, out.data() + 1);
      for (size_t i = 1; i <= n; ++i) {
        const double gd = g[i], want = gd / (1.0 + std::exp(-gd)) * u[i];
        ASSERT_NEAR(out[i], want, 2e-6 * std::abs(want) + 1e-30) << "n " << n << " g " << g[i];
      }
      ASSERT_EQ(out[0], -7.0f);
      // In place over the gate, as the model calls it.
      k->silu_mul(g.data() + 1, u.data() + 1, n, g.data() + 1);
      for (size_t i = 1; i <= n; ++i) ASSERT_EQ(g[i], out[i]);
    }
  }
  const float extremes[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 87.0f, -87.0f, 89.0f, -89.0f, 120.0f, -120.0f, 3e38f, -3e38f};
  const size_t n = sizeof(extremes) / sizeof(float);
  std::vector<float> ones(n, 1.0f), out(n);
  k->silu_mul(extremes, ones.data(), n, out.data());
  for (size_t i = 0; i < n; ++i) {
    const double gd = extremes[i], want = gd / (1.0 + std::exp(-gd));
    EXPECT_NEAR(out[i], want, 2e-6 * std::abs(want) + 1e-30) << extremes[i];
  }
}

TEST_P(ElementwiseTest, RmsNorm) {
  const KernelTable* k = table();
  if (k == nullptr) GTEST_SKIP() << "this CPU lacks " << isa_name(GetParam());
  std::mt19937 rng(22);
  for (float scale : {1e-3f, 1.0f, 1e3f}) {
    for (size_t n = 1; n <= 70; ++n) {
      std::vector<float> x = gaussian(n + 1, rng, scale), w = gaussian(n + 1, rng);
      std::vector<float> out(n + 1, -7.0f);
      k->rms_norm(x.data() + 1, w.data() + 1, 1e-6f, n, out.data() + 1);
      double ss = 0.0;
      for (size_t i = 1; i <= n; ++i) ss += static_cast<double>(x[i]) * x[i];
      const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + 1e-6f);
      for (size_t i = 1; i <= n; ++i) {
        const double want = x[i] * inv * w[i];
        ASSERT_NEAR(out[i], want, 1e-6 * std::abs(want) + 1e-30) << "n " << n;
      }
      k->rms_norm(x.data() + 1, w.data() + 1, 1e-6f, n, x.data() + 1);  // in place
      for (size_t i = 1; i <= n; ++i) ASSERT_EQ(x[i], out[i]);
    }
  }
  const float zeros[5] = {};
  const float w[5] = {1, 2, 3, 4, 5};
  float out[5];
  k->rms_norm(zeros, w, 1e-5f, 5, out);
  for (float v : out) EXPECT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(Levels, ElementwiseTest,
                         ::testing::Values(Isa::kReference, Isa::kAvx2, Isa::kAvx512),
                         [](const auto& info) { return isa_name(info.param); });

}  // namespace
}  // namespace wafer::kernels::test
