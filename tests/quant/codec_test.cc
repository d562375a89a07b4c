// Decoders against hand-made blocks: bytes built by hand with known d, scales and quants,
// expected values worked out per element from the format's definition (not the decoder).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "quant/quant.h"

namespace wafer {
namespace {

constexpr uint16_t kF16One = 0x3C00;       // 1.0
constexpr uint16_t kF16Half = 0x3800;      // 0.5
constexpr uint16_t kF16Quarter = 0x3400;   // 0.25
constexpr uint16_t kF16MinusTwo = 0xC000;  // -2.0

template <typename Block>
std::vector<float> decode(DType type, const Block& block, size_t n) {
  std::vector<float> out(n, -999.0f);
  dequantize_row(type, &block, out.data(), n);
  return out;
}

TEST(DequantizePlain, F32F16BF16) {
  const float f32[3] = {1.5f, -0.0f, 3.0e38f};
  float out[3];
  dequantize_row(DType::kF32, f32, out, 3);
  EXPECT_EQ(std::memcmp(f32, out, sizeof(out)), 0);

  const uint16_t f16[6] = {kF16One, kF16MinusTwo, 0x7BFF, 0x0001, 0x8000, 0x3555};
  float h[6];
  dequantize_row(DType::kF16, f16, h, 6);
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_EQ(h[2], 65504.0f);
  EXPECT_EQ(h[3], 5.9604644775390625e-8f);  // 2^-24, smallest subnormal
  EXPECT_TRUE(h[4] == 0.0f && std::signbit(h[4]));
  EXPECT_EQ(h[5], 0.333251953125f);

  const uint16_t bf16[3] = {0x3F80, 0xC040, 0x4049};
  float b[3];
  dequantize_row(DType::kBF16, bf16, b, 3);
  EXPECT_EQ(b[0], 1.0f);
  EXPECT_EQ(b[1], -3.0f);
  EXPECT_EQ(b[2], 3.140625f);
}

TEST(DequantizeQ8_0, ScaleTimesInt8) {
  BlockQ8_0 blk{};
  blk.d = kF16Quarter;
  for (int i = 0; i < kQK; ++i) blk.qs[i] = static_cast<int8_t>(i * 8 - 128);  // -128 .. 120
  const auto out = decode(DType::kQ8_0, blk, kQK);
  for (int i = 0; i < kQK; ++i) EXPECT_EQ(out[i], 0.25f * static_cast<float>(i * 8 - 128)) << i;
}

TEST(DequantizeQ4_0, LiteralBytes) {
  BlockQ4_0 blk{};
  blk.d = kF16Half;
  std::memset(blk.qs, 0x88, sizeof(blk.qs));  // every element 8 - 8 = 0
  blk.qs[0] = 0x1F;                           // element 0: 15 - 8 = 7; element 16: 1 - 8 = -7
  blk.qs[15] = 0x0A;                          // element 15: 10 - 8 = 2; element 31: 0 - 8 = -8
  const auto out = decode(DType::kQ4_0, blk, kQK);
  for (int i = 0; i < kQK; ++i) {
    float want = 0.0f;
    if (i == 0) want = 3.5f;
    if (i == 16) want = -3.5f;
    if (i == 15) want = 1.0f;
    if (i == 31) want = -4.0f;
    EXPECT_EQ(out[i], want) << i;
  }
}

TEST(DequantizeQ4_0, EachElementAlone) {
  for (int e = 0; e < kQK; ++e) {
    BlockQ4_0 blk{};
    blk.d = kF16MinusTwo;
    std::memset(blk.qs, 0x88, sizeof(blk.qs));
    const int v = (e * 7 + 3) % 16;
    // Elements 0..15 are the low nibbles of bytes 0..15, elements 16..31 the high nibbles.
    uint8_t& byte = blk.qs[e % 16];
    byte = e < 16 ? static_cast<uint8_t>((byte & 0xF0) | v)
                  : static_cast<uint8_t>((byte & 0x0F) | v << 4);
    const auto out = decode(DType::kQ4_0, blk, kQK);
    for (int i = 0; i < kQK; ++i)
      EXPECT_EQ(out[i], i == e ? -2.0f * (v - 8) : 0.0f) << e << " " << i;
  }
}

TEST(DequantizeQ5_0, LiteralBytes) {
  BlockQ5_0 blk{};
  blk.d = kF16Quarter;
  // qh little-endian: bit 0 (element 0) and bit 31 (element 31) set.
  blk.qh[0] = 0x01;
  blk.qh[3] = 0x80;
  blk.qs[0] = 0x3F;  // element 0: 15 | 16 = 31 -> 15; element 16: 3 -> -13
  const auto out = decode(DType::kQ5_0, blk, kQK);
  for (int i = 0; i < kQK; ++i) {
    float want = -16 * 0.25f;  // nibble 0, no fifth bit
    if (i == 0) want = 15 * 0.25f;
    if (i == 16) want = -13 * 0.25f;
    if (i == 31) want = 0.0f;  // 0 | 16 = 16 -> 0
    EXPECT_EQ(out[i], want) << i;
  }
}

TEST(DequantizeQ5_0, EachElementAlone) {
  for (int e = 0; e < kQK; ++e) {
    BlockQ5_0 blk{};
    blk.d = kF16Half;
    std::memset(blk.qs, 0x00, sizeof(blk.qs));
    std::memset(blk.qh, 0xFF, sizeof(blk.qh));  // every element 0 | 16 = 16 -> 0
    const int v = (e * 11 + 5) % 32;
    uint8_t& byte = blk.qs[e % 16];
    byte = e < 16 ? static_cast<uint8_t>((byte & 0xF0) | (v & 15))
                  : static_cast<uint8_t>((byte & 0x0F) | (v & 15) << 4);
    if (!(v & 16)) blk.qh[e / 8] = static_cast<uint8_t>(blk.qh[e / 8] & ~(1u << (e % 8)));
    const auto out = decode(DType::kQ5_0, blk, kQK);
    for (int i = 0; i < kQK; ++i)
      EXPECT_EQ(out[i], i == e ? 0.5f * (v - 16) : 0.0f) << e << " " << i;
  }
}

// Eight (scale, min) pairs, and their 12 packed bytes worked out by hand:
// bytes 0..3 = sc[j] | top2(sc[j+4]) << 6, bytes 4..7 = m[j] | top2(m[j+4]) << 6,
// bytes 8..11 = low4(sc[j+4]) | low4(m[j+4]) << 4.
constexpr uint8_t kSc[8] = {1, 2, 3, 4, 45, 17, 63, 32};
constexpr uint8_t kMin[8] = {5, 6, 7, 8, 50, 33, 0, 63};
constexpr uint8_t kPacked[12] = {0x81, 0x42, 0xC3, 0x84, 0xC5, 0x86,
                                 0x07, 0xC8, 0x2D, 0x11, 0x0F, 0xF0};

TEST(KScaleMin, UnpacksHandPackedBytes) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc = 0, m = 0;
    k_scale_min(kPacked, j, &sc, &m);
    EXPECT_EQ(sc, kSc[j]) << j;
    EXPECT_EQ(m, kMin[j]) << j;
  }
}

// Element e of a Q4_K/Q5_K super-block: sub-block e / 32; its nibble is in byte
// 32 * (e / 64) + e % 32, low nibble for even sub-blocks, high for odd ones.
template <typename Block>
void set_k_nibble(Block& blk, int e, int v) {
  uint8_t& byte = blk.qs[32 * (e / 64) + e % 32];
  byte = (e / 32) % 2 == 0 ? static_cast<uint8_t>((byte & 0xF0) | v)
                           : static_cast<uint8_t>((byte & 0x0F) | v << 4);
}

TEST(DequantizeQ4_K, AllZeroQuantsGiveMinusMin) {
  BlockQ4_K blk{};
  blk.d = kF16One;
  blk.dmin = kF16Half;
  std::memcpy(blk.scales, kPacked, 12);
  const auto out = decode(DType::kQ4_K, blk, kQK_K);
  for (int i = 0; i < kQK_K; ++i) EXPECT_EQ(out[i], -0.5f * kMin[i / 32]) << i;
}

TEST(DequantizeQ4_K, EachElementAlone) {
  for (int e = 0; e < kQK_K; ++e) {
    BlockQ4_K blk{};
    blk.d = kF16One;
    blk.dmin = kF16Half;
    std::memcpy(blk.scales, kPacked, 12);
    const int v = (e * 5 + 1) % 16;
    set_k_nibble(blk, e, v);
    const auto out = decode(DType::kQ4_K, blk, kQK_K);
    for (int i = 0; i < kQK_K; ++i) {
      const int j = i / 32;
      const float want = (i == e ? 1.0f * kSc[j] * v : 0.0f) - 0.5f * kMin[j];
      ASSERT_EQ(out[i], want) << e << " " << i;
    }
  }
}

TEST(DequantizeQ4_K, LiteralBytes) {
  BlockQ4_K blk{};
  blk.d = kF16Half;
  blk.dmin = kF16One;
  std::memcpy(blk.scales, kPacked, 12);
  blk.qs[0] = 0x3A;   // element 0 (sub-block 0): 10; element 32 (sub-block 1): 3
  blk.qs[97] = 0xF7;  // element 3*64+1 = 193 (sub-block 6): 7; element 225 (sub-block 7): 15
  const auto out = decode(DType::kQ4_K, blk, kQK_K);
  EXPECT_EQ(out[0], 0.5f * 1 * 10 - 5);
  EXPECT_EQ(out[32], 0.5f * 2 * 3 - 6);
  EXPECT_EQ(out[193], 0.5f * 63 * 7 - 0);
  EXPECT_EQ(out[225], 0.5f * 32 * 15 - 63);
  EXPECT_EQ(out[1], -5.0f);
  EXPECT_EQ(out[224], -63.0f);
}

TEST(DequantizeQ5_K, EachElementAlone) {
  for (int e = 0; e < kQK_K; ++e) {
    BlockQ5_K blk{};
    blk.d = kF16Half;
    blk.dmin = kF16One;
    std::memcpy(blk.scales, kPacked, 12);
    const int v = (e * 13 + 7) % 32;
    set_k_nibble(blk, e, v & 15);
    // Fifth bit: byte qh[e % 32], bit 2 * chunk + (first or second half of the chunk).
    if (v & 16) blk.qh[e % 32] = static_cast<uint8_t>(1u << (e / 32));
    const auto out = decode(DType::kQ5_K, blk, kQK_K);
    for (int i = 0; i < kQK_K; ++i) {
      const int j = i / 32;
      const float want = (i == e ? 0.5f * kSc[j] * v : 0.0f) - 1.0f * kMin[j];
      ASSERT_EQ(out[i], want) << e << " " << i;
    }
  }
}

TEST(DequantizeQ5_K, LiteralHighBits) {
  BlockQ5_K blk{};
  blk.d = kF16One;
  blk.dmin = kF16Half;
  std::memcpy(blk.scales, kPacked, 12);
  blk.qh[2] = 0x81;  // bit 0: element 2 (sub-block 0); bit 7: element 3*64+32+2 = 226
  blk.qs[2] = 0x01;  // element 2: low nibble 1
  const auto out = decode(DType::kQ5_K, blk, kQK_K);
  EXPECT_EQ(out[2], 1.0f * 1 * 17 - 2.5f);
  EXPECT_EQ(out[226], 1.0f * 32 * 16 - 31.5f);
  EXPECT_EQ(out[34], -3.0f);  // same qh byte, bit 1 clear: sub-block 1, quant 0
}

// Q6_K: scale index of element e is e / 16. Element e sits in half h = e / 128; with
// r = e % 128, quarter k = r / 32 and l = r % 32: low 4 bits in ql[64h + l + 32(k%2)]
// (low nibble for k < 2, high for k >= 2), top 2 bits in qh[32h + l] at bits 2k..2k+1.
constexpr int8_t kQ6Scales[16] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -127, 127, -128};

BlockQ6_K q6_block_all(int six_bit) {
  BlockQ6_K blk{};
  blk.d = kF16Half;
  std::memcpy(blk.scales, kQ6Scales, 16);
  const int lo = six_bit & 15, hi = six_bit >> 4;
  std::memset(blk.ql, lo | lo << 4, sizeof(blk.ql));
  std::memset(blk.qh, hi | hi << 2 | hi << 4 | hi << 6, sizeof(blk.qh));
  return blk;
}

void set_q6_element(BlockQ6_K& blk, int e, int v) {
  const int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
  uint8_t& low = blk.ql[64 * h + l + 32 * (k % 2)];
  low = k < 2 ? static_cast<uint8_t>((low & 0xF0) | (v & 15))
              : static_cast<uint8_t>((low & 0x0F) | (v & 15) << 4);
  uint8_t& high = blk.qh[32 * h + l];
  high = static_cast<uint8_t>((high & ~(3 << (2 * k))) | (v >> 4) << (2 * k));
}

TEST(DequantizeQ6_K, ScalePerSixteen) {
  const BlockQ6_K blk = q6_block_all(0);  // every quant 0 - 32 = -32
  const auto out = decode(DType::kQ6_K, blk, kQK_K);
  for (int i = 0; i < kQK_K; ++i) EXPECT_EQ(out[i], 0.5f * kQ6Scales[i / 16] * -32) << i;
}

TEST(DequantizeQ6_K, EachElementAlone) {
  for (int e = 0; e < kQK_K; ++e) {
    BlockQ6_K blk = q6_block_all(32);  // every quant 0
    const int v = (e * 37 + 11) % 64;
    set_q6_element(blk, e, v);
    const auto out = decode(DType::kQ6_K, blk, kQK_K);
    for (int i = 0; i < kQK_K; ++i)
      ASSERT_EQ(out[i], i == e ? 0.5f * kQ6Scales[i / 16] * (v - 32) : 0.0f) << e << " " << i;
  }
}

TEST(DequantizeQ6_K, LiteralBytesBothHalves) {
  BlockQ6_K blk{};
  blk.d = kF16One;
  for (int i = 0; i < 16; ++i) blk.scales[i] = 1;
  blk.ql[0] = 0x21;            // element 0 low 4 = 1; element 64 low 4 = 2
  blk.qh[0] = 0b11100100;      // bits 0-1 -> element 0: 0; 2-3 -> 32: 1; 4-5 -> 64: 2; 6-7 -> 96: 3
  blk.ql[64 + 32 + 5] = 0xC3;  // second half, l = 5: element 128+32+5 = 165: 3; 128+96+5 = 229: 12
  blk.qh[32 + 5] = 0b01001100;  // element 133: 0; 165: 3; 197: 0; 229: 1
  const auto out = decode(DType::kQ6_K, blk, kQK_K);
  EXPECT_EQ(out[0], 1 - 32);
  EXPECT_EQ(out[32], 16 - 32);
  EXPECT_EQ(out[64], 2 + 32 - 32);
  EXPECT_EQ(out[96], 48 - 32);
  EXPECT_EQ(out[165], 3 + 48 - 32);
  EXPECT_EQ(out[229], 12 + 16 - 32);
  EXPECT_EQ(out[133], -32);
  EXPECT_EQ(out[197], -32);
}

TEST(DequantizeQ8_K, FloatScale) {
  BlockQ8_K blk{};
  blk.d = 0.125f;
  for (int i = 0; i < kQK_K; ++i) blk.qs[i] = static_cast<int8_t>(i - 128);
  const auto out = decode(DType::kQ8_K, blk, kQK_K);
  for (int i = 0; i < kQK_K; ++i) EXPECT_EQ(out[i], 0.125f * (i - 128)) << i;
}

TEST(Dequantize, MultipleBlocksAndMisalignedSource) {
  // Two Q4_K blocks at an odd address: block 1 must decode from its own bytes.
  std::vector<uint8_t> buf(1 + 2 * sizeof(BlockQ4_K));
  BlockQ4_K blk{};
  blk.d = kF16One;
  blk.dmin = kF16Half;
  std::memcpy(blk.scales, kPacked, 12);
  std::memcpy(buf.data() + 1, &blk, sizeof(blk));
  blk.d = kF16Half;
  std::memset(blk.qs, 0x11, sizeof(blk.qs));
  std::memcpy(buf.data() + 1 + sizeof(blk), &blk, sizeof(blk));
  std::vector<float> out(2 * kQK_K);
  dequantize_row(DType::kQ4_K, buf.data() + 1, out.data(), out.size());
  for (int i = 0; i < kQK_K; ++i) {
    ASSERT_EQ(out[i], -0.5f * kMin[i / 32]) << i;
    ASSERT_EQ(out[kQK_K + i], 0.5f * kSc[i / 32] - 0.5f * kMin[i / 32]) << i;
  }
}

TEST(SupportedTypes, ExactlyTheRunnableOnes) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ5_0,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K})
    EXPECT_TRUE(is_supported_weight_type(t)) << dtype_name(t);
  for (DType t : {DType::kQ4_1, DType::kQ5_1, DType::kQ8_1, DType::kQ2_K, DType::kQ3_K,
                  DType::kQ8_K, DType::kI8, DType::kF64})
    EXPECT_FALSE(is_supported_weight_type(t)) << dtype_name(t);
}

TEST(DequantizeDeathTest, PartialBlockIsABug) {
  BlockQ4_0 blk{};
  float out[kQK];
  EXPECT_DEATH(dequantize_row(DType::kQ4_0, &blk, out, 31), "");
}

}  // namespace
}  // namespace wafer
