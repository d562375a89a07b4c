// Encoders: quantise -> dequantise round trips within stated error bounds, exact recovery
// of blocks that lie on the grid, edge blocks (zeros, constants, wide scale ranges), and
// the bookkeeping fields (Q8_K bsums, k-quant 6-bit scales).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "base/half.h"
#include "quant/quant.h"

namespace wafer {
namespace {

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

std::vector<float> round_trip(DType type, const std::vector<float>& x) {
  std::vector<uint8_t> bytes(row_bytes(type, x.size()));
  quantize_row(type, x.data(), bytes.data(), x.size());
  std::vector<float> y(x.size());
  dequantize_row(type, bytes.data(), y.data(), y.size());
  return y;
}

double rel_rms(const float* got, const float* want, size_t n) {
  double err = 0, ref = 0;
  for (size_t i = 0; i < n; ++i) {
    err += (static_cast<double>(got[i]) - want[i]) * (static_cast<double>(got[i]) - want[i]);
    ref += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(err / ref);
}

struct Bound {
  DType type;
  double max_rel_rms;
};

// About 15% above what the encoders measure on N(0, 1) (q8_0 0.0054, q4_0 0.082,
// q5_0 0.040, q4_K 0.071, q5_K 0.036, q6_K 0.017, q8_K 0.0070), so a worse scale choice
// fails; all well inside the design targets (0.01, 0.15, 0.08, 0.15, 0.08, 0.05).
constexpr Bound kBounds[] = {
    {DType::kQ8_0, 0.0062}, {DType::kQ4_0, 0.094}, {DType::kQ5_0, 0.046},
    {DType::kQ4_K, 0.082},  {DType::kQ5_K, 0.041}, {DType::kQ6_K, 0.020},
    {DType::kQ8_K, 0.0080}, {DType::kF16, 3e-4},   {DType::kBF16, 2e-3},
};

TEST(QuantizeRoundTrip, GaussianWithinBounds) {
  const std::vector<float> x = gaussian(64 * kQK_K, 1234);
  for (const Bound& b : kBounds) {
    const std::vector<float> y = round_trip(b.type, x);
    const double e = rel_rms(y.data(), x.data(), x.size());
    std::printf("  %-5s relative RMS error on N(0,1): %.4f\n", dtype_name(b.type).data(), e);
    EXPECT_LT(e, b.max_rel_rms) << dtype_name(b.type);
  }
}

TEST(QuantizeRoundTrip, ErrorIndependentOfMagnitude) {
  for (const Bound& b : kBounds) {
    const double e1 = rel_rms(round_trip(b.type, gaussian(8 * kQK_K, 7)).data(),
                              gaussian(8 * kQK_K, 7).data(), 8 * kQK_K);
    for (float sigma : {1e-3f, 30.0f}) {
      const std::vector<float> x = gaussian(8 * kQK_K, 7, sigma);
      const double e = rel_rms(round_trip(b.type, x).data(), x.data(), x.size());
      EXPECT_NEAR(e, e1, 0.1 * e1 + 1e-4) << dtype_name(b.type) << " sigma " << sigma;
    }
  }
}

TEST(QuantizeRoundTrip, F32IsExact) {
  const std::vector<float> x = gaussian(100, 3);
  EXPECT_EQ(round_trip(DType::kF32, x), x);
}

TEST(QuantizeRoundTrip, ZerosStayZero) {
  const std::vector<float> x(2 * kQK_K, 0.0f);
  for (const Bound& b : kBounds) {
    const std::vector<float> y = round_trip(b.type, x);
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(b.type);
  }
}

TEST(QuantizeRoundTrip, ConstantBlocks) {
  for (float c : {0.75f, -0.75f, 1e-3f}) {
    const std::vector<float> x(kQK_K, c);
    for (const Bound& b : kBounds) {
      const std::vector<float> y = round_trip(b.type, x);
      // 3e-3: at c = 1e-3 the k-quants' d is an f16 subnormal, a 6-bit scale times few bits.
      for (float v : y) ASSERT_NEAR(v, c, 3e-3 * std::fabs(c)) << dtype_name(b.type) << " c " << c;
    }
  }
}

TEST(QuantizeRoundTrip, GridPointsAreRecoveredExactly) {
  std::vector<float> x(kQK_K);
  // Q4_0: 0.5 * (q - 8) with every q in 0..15 present in each block.
  for (int i = 0; i < kQK_K; ++i) x[i] = 0.5f * static_cast<float>((i * 7) % 16 - 8);
  EXPECT_EQ(round_trip(DType::kQ4_0, x), x);
  // Q5_0: 0.25 * (q - 16).
  for (int i = 0; i < kQK_K; ++i) x[i] = 0.25f * static_cast<float>((i * 7) % 32 - 16);
  EXPECT_EQ(round_trip(DType::kQ5_0, x), x);
  // Q8_0 and Q8_K: multiples of 1/64 reaching +-127/64 in every block.
  for (int i = 0; i < kQK_K; ++i) x[i] = static_cast<float>((i * 37) % 255 - 127) / 64.0f;
  for (int b = 0; b < kQK_K / kQK; ++b) x[b * kQK] = 127.0f / 64.0f;
  EXPECT_EQ(round_trip(DType::kQ8_0, x), x);
  // Q4_K and Q5_K: scale 63/64 (d = 1/64, sc = 63), min 63/32 (dmin = 1/32, m = 63).
  for (int bits : {4, 5}) {
    const int levels = 1 << bits;
    for (int i = 0; i < kQK_K; ++i)
      x[i] = 63.0f / 64.0f * static_cast<float>((i * 5) % levels) - 63.0f / 32.0f;
    const DType t = bits == 4 ? DType::kQ4_K : DType::kQ5_K;
    const std::vector<float> y = round_trip(t, x);
    for (int i = 0; i < kQK_K; ++i) ASSERT_NEAR(y[i], x[i], 1e-5) << dtype_name(t) << " " << i;
  }
}

// Sub-block j scaled by (j + 1): scales spread over the 6-bit range, so sub-blocks 4..7
// need the packed high bits. Each sub-block must still be quantised well.
TEST(QuantizeQ4_K, WideScaleRangeUsesHighScaleBits) {
  std::vector<float> x = gaussian(kQK_K, 99);
  for (int i = 0; i < kQK_K; ++i) x[i] *= static_cast<float>(i / 32 + 1);
  for (DType t : {DType::kQ4_K, DType::kQ5_K}) {
    std::vector<uint8_t> bytes(row_bytes(t, kQK_K));
    quantize_row(t, x.data(), bytes.data(), kQK_K);
    const uint8_t* scales = bytes.data() + 4;  // after d and dmin
    for (int j = 4; j < 8; ++j) {
      uint8_t sc = 0, m = 0;
      k_scale_min(scales, j, &sc, &m);
      EXPECT_GE(sc, 16) << j;  // needs bit 4 or 5
      EXPECT_GE(m, 16) << j;
    }
    std::vector<float> y(kQK_K);
    dequantize_row(t, bytes.data(), y.data(), kQK_K);
    for (int j = 0; j < 8; ++j)
      EXPECT_LT(rel_rms(y.data() + 32 * j, x.data() + 32 * j, 32), t == DType::kQ4_K ? 0.2 : 0.12)
          << dtype_name(t) << " sub-block " << j;
  }
}

// Q6_K groups of 16 with different magnitudes and signs of skew, in both halves.
TEST(QuantizeQ6_K, GroupsKeepTheirOwnScale) {
  std::vector<float> x = gaussian(2 * kQK_K, 5);
  for (int i = 0; i < 2 * kQK_K; ++i) x[i] *= static_cast<float>(1 + (i / 16) % 8);
  const std::vector<float> y = round_trip(DType::kQ6_K, x);
  for (int g = 0; g < 2 * kQK_K / 16; ++g)
    EXPECT_LT(rel_rms(y.data() + 16 * g, x.data() + 16 * g, 16), 0.08) << "group " << g;
}

TEST(QuantizeQ8_K, BsumsAndExtreme) {
  std::vector<float> x = gaussian(2 * kQK_K, 11);
  x[300] = 9.0f;  // the extreme of block 1 maps to -128
  std::vector<BlockQ8_K> blocks(2);
  quantize_row(DType::kQ8_K, x.data(), blocks.data(), x.size());
  for (const BlockQ8_K& b : blocks)
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b.qs[16 * g + l];
      EXPECT_EQ(b.bsums[g], sum) << g;
    }
  EXPECT_EQ(blocks[1].qs[300 - kQK_K], -128);
  EXPECT_FLOAT_EQ(blocks[1].d * -128.0f, 9.0f);
}

TEST(QuantizeHalf, RoundsToNearestEven) {
  const float x[4] = {1.0f / 3.0f, 65520.0f, 1.0f + 1.0f / 2048.0f, -2.0f};
  uint16_t h[4];
  quantize_row(DType::kF16, x, h, 4);
  EXPECT_EQ(h[0], 0x3555);
  EXPECT_EQ(h[1], 0x7C00);  // past the largest half: infinity
  EXPECT_EQ(h[2], 0x3C00);  // tie between 1 and 1 + 2^-10 goes to the even 1
  EXPECT_EQ(h[3], 0xC000);
  uint16_t b[2];
  quantize_row(DType::kBF16, x, b, 2);
  EXPECT_EQ(b[0], 0x3EAB);
  EXPECT_EQ(b[1], 0x4780);  // 65520 rounds to 65536 in bf16
}

TEST(Quantize, MisalignedDestinationMatchesAligned) {
  const std::vector<float> x = gaussian(2 * kQK_K, 21);
  for (const Bound& b : kBounds) {
    const size_t bytes = row_bytes(b.type, x.size());
    std::vector<uint8_t> aligned(bytes), shifted(bytes + 3);
    quantize_row(b.type, x.data(), aligned.data(), x.size());
    quantize_row(b.type, x.data(), shifted.data() + 3, x.size());
    EXPECT_EQ(std::memcmp(aligned.data(), shifted.data() + 3, bytes), 0) << dtype_name(b.type);
  }
}

}  // namespace
}  // namespace wafer
