// RoPE: rotation pairs per style, norm preservation, and YaRN's per-dimension blend.
#include <cmath>

#include <gtest/gtest.h>

#include "model/rope.h"

namespace wafer {
namespace {

ModelConfig config(RopeStyle style, RopeScaling scaling, float factor) {
  ModelConfig c;
  c.head_dim = 64;
  c.rope_dims = 64;
  c.rope_base = 1e6f;
  c.rope_style = style;
  c.rope_scaling = scaling;
  c.rope_scale_factor = factor;
  c.rope_orig_ctx = 32768;
  return c;
}

TEST(Rope, PositionZeroIsIdentity) {
  Rope rope(config(RopeStyle::kNeox, RopeScaling::kNone, 1), {});
  std::vector<float> cos(32), sin(32), x(64);
  for (int i = 0; i < 64; ++i) x[i] = 0.1f * i - 3;
  std::vector<float> y = x;
  rope.angles(0, cos.data(), sin.data());
  rope.apply(y.data(), 1, cos.data(), sin.data());
  for (int i = 0; i < 64; ++i) EXPECT_FLOAT_EQ(y[i], x[i]);
}

TEST(Rope, StylesRotateTheirOwnPairs) {
  for (RopeStyle style : {RopeStyle::kNeox, RopeStyle::kNormal}) {
    Rope rope(config(style, RopeScaling::kNone, 1), {});
    std::vector<float> cos(32), sin(32), x(64, 0.0f);
    x[0] = 1.0f;  // only pair 0 is non-zero: its partner must receive sin(pos * 1)
    rope.angles(5, cos.data(), sin.data());
    rope.apply(x.data(), 1, cos.data(), sin.data());
    const int partner = style == RopeStyle::kNeox ? 32 : 1;
    EXPECT_NEAR(x[0], std::cos(5.0), 1e-6);
    EXPECT_NEAR(x[partner], std::sin(5.0), 1e-6);
    double norm = 0;
    for (float v : x) norm += v * v;
    EXPECT_NEAR(norm, 1.0, 1e-6);
  }
}

TEST(Rope, FrequenciesFollowTheBase) {
  Rope rope(config(RopeStyle::kNeox, RopeScaling::kNone, 1), {});
  std::vector<float> cos(32), sin(32);
  rope.angles(1000, cos.data(), sin.data());
  for (int i = 0; i < 32; ++i) {
    const double theta = 1000 * std::pow(1e6, -2.0 * i / 64);
    EXPECT_NEAR(cos[i], std::cos(theta), 1e-6);
    EXPECT_NEAR(sin[i], std::sin(theta), 1e-6);
  }
}

TEST(Rope, YarnKeepsHighFrequenciesAndInterpolatesLowOnes) {
  const float factor = 4;
  Rope plain(config(RopeStyle::kNeox, RopeScaling::kNone, 1), {});
  Rope yarn(config(RopeStyle::kNeox, RopeScaling::kYarn, factor), {});
  const double mscale = 1 + 0.1 * std::log(factor);
  std::vector<float> pc(32), ps(32), yc(32), ys(32);
  const int64_t pos = 3;
  plain.angles(pos, pc.data(), ps.data());
  yarn.angles(pos, yc.data(), ys.data());
  // pair 0 rotates fastest: kept as is (scaled by mscale)
  EXPECT_NEAR(yc[0], pc[0] * mscale, 1e-5);
  EXPECT_NEAR(ys[0], ps[0] * mscale, 1e-5);
  // the slowest pair is fully interpolated: angle divided by the factor
  const double slow = pos * std::pow(1e6, -2.0 * 31 / 64) / factor;
  EXPECT_NEAR(yc[31], std::cos(slow) * mscale, 1e-5);
  EXPECT_NEAR(ys[31], std::sin(slow) * mscale, 1e-5);
}

TEST(Rope, LinearScalingDividesEveryAngle) {
  Rope rope(config(RopeStyle::kNormal, RopeScaling::kLinear, 2), {});
  std::vector<float> c(32), s(32);
  rope.angles(10, c.data(), s.data());
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(s[i], std::sin(5 * std::pow(1e6, -2.0 * i / 64)), 1e-5);
}

TEST(Rope, FrequencyFactorsDivideTheFrequencies) {
  std::vector<float> factors(32, 1.0f);
  factors[3] = 8.0f;
  Rope rope(config(RopeStyle::kNormal, RopeScaling::kNone, 1), factors);
  std::vector<float> c(32), s(32);
  rope.angles(7, c.data(), s.data());
  EXPECT_NEAR(s[3], std::sin(7 * std::pow(1e6, -6.0 / 64) / 8), 1e-6);
  EXPECT_NEAR(s[2], std::sin(7 * std::pow(1e6, -4.0 / 64)), 1e-6);
}

}  // namespace
}  // namespace wafer
