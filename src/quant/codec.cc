// Scalar reference decoders for every block format wafer runs: the spec that optimised
// kernels are tested against. Arithmetic order follows ggml's so results match bit for bit.
#include <cstring>

#include "base/check.h"
#include "base/half.h"
#include "quant/quant.h"

namespace wafer {
namespace {

void dequantize_q4_0(const BlockQ4_0* blocks, float* dst, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = (blocks[b].qs[j] & 0x0F) - 8;
      const int hi = (blocks[b].qs[j] >> 4) - 8;
      dst[j] = static_cast<float>(lo) * d;
      dst[j + kQK / 2] = static_cast<float>(hi) * d;
    }
  }
}

void dequantize_q5_0(const BlockQ5_0* blocks, float* dst, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    const uint8_t* h = blocks[b].qh;
    // Little-endian 32-bit word whose bit j is the fifth bit of element j.
    const uint32_t qh = static_cast<uint32_t>(h[0]) | static_cast<uint32_t>(h[1]) << 8 |
                        static_cast<uint32_t>(h[2]) << 16 | static_cast<uint32_t>(h[3]) << 24;
    for (int j = 0; j < kQK / 2; ++j) {
      const int hb_lo = static_cast<int>((qh >> j) & 1u) << 4;
      const int hb_hi = static_cast<int>((qh >> (j + kQK / 2)) & 1u) << 4;
      const int lo = ((blocks[b].qs[j] & 0x0F) | hb_lo) - 16;
      const int hi = ((blocks[b].qs[j] >> 4) | hb_hi) - 16;
      dst[j] = static_cast<float>(lo) * d;
      dst[j + kQK / 2] = static_cast<float>(hi) * d;
    }
  }
}

void dequantize_q8_0(const BlockQ8_0* blocks, float* dst, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, dst += kQK) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(blocks[b].qs[j]) * d;
  }
}

// Q4_K and Q5_K: four chunks of 64 elements; in chunk c, the low nibbles of qs[32c..32c+31]
// are sub-block 2c and the high nibbles sub-block 2c+1. Q5_K's fifth bits come from
// qh[l]: bit 2c for the first half of chunk c, bit 2c+1 for the second.
void dequantize_q4_k(const BlockQ4_K* blocks, float* dst, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b) {
    const BlockQ4_K& blk = blocks[b];
    const float d = f16_to_f32(blk.d);
    const float dmin = f16_to_f32(blk.dmin);
    const uint8_t* q = blk.qs;
    for (int c = 0; c < kQK_K / 64; ++c, q += 32, dst += 64) {
      uint8_t sc0, m0, sc1, m1;
      k_scale_min(blk.scales, 2 * c, &sc0, &m0);
      k_scale_min(blk.scales, 2 * c + 1, &sc1, &m1);
      const float d0 = d * sc0, min0 = dmin * m0;
      const float d1 = d * sc1, min1 = dmin * m1;
      for (int l = 0; l < 32; ++l) dst[l] = d0 * static_cast<float>(q[l] & 0x0F) - min0;
      for (int l = 0; l < 32; ++l) dst[l + 32] = d1 * static_cast<float>(q[l] >> 4) - min1;
    }
  }
}

void dequantize_q5_k(const BlockQ5_K* blocks, float* dst, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b) {
    const BlockQ5_K& blk = blocks[b];
    const float d = f16_to_f32(blk.d);
    const float dmin = f16_to_f32(blk.dmin);
    const uint8_t* q = blk.qs;
    for (int c = 0; c < kQK_K / 64; ++c, q += 32, dst += 64) {
      uint8_t sc0, m0, sc1, m1;
      k_scale_min(blk.scales, 2 * c, &sc0, &m0);
      k_scale_min(blk.scales, 2 * c + 1, &sc1, &m1);
      const float d0 = d * sc0, min0 = dmin * m0;
      const float d1 = d * sc1, min1 = dmin * m1;
      const uint8_t bit0 = static_cast<uint8_t>(1u << (2 * c));
      const uint8_t bit1 = static_cast<uint8_t>(1u << (2 * c + 1));
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] & 0x0F) + ((blk.qh[l] & bit0) ? 16 : 0);
        dst[l] = d0 * static_cast<float>(v) - min0;
      }
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] >> 4) + ((blk.qh[l] & bit1) ? 16 : 0);
        dst[l + 32] = d1 * static_cast<float>(v) - min1;
      }
    }
  }
}

// Q6_K: two halves of 128 elements, each from 64 bytes of ql, 32 of qh and 8 scales.
// Within a half, l in 0..31 yields elements l, l+32, l+64, l+96 (qh bit pairs 0, 2, 4, 6),
// and each group of 16 elements has its own int8 scale.
void dequantize_q6_k(const BlockQ6_K* blocks, float* dst, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b) {
    const BlockQ6_K& blk = blocks[b];
    const float d = f16_to_f32(blk.d);
    const uint8_t* ql = blk.ql;
    const uint8_t* qh = blk.qh;
    const int8_t* sc = blk.scales;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, dst += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0F) | ((qh[l] >> 0) & 3) << 4) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | ((qh[l] >> 2) & 3) << 4) - 32;
        const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
        const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
        dst[l] = d * sc[is + 0] * static_cast<float>(q1);
        dst[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
        dst[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
        dst[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
      }
    }
  }
}

void dequantize_q8_k(const BlockQ8_K* blocks, float* dst, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, dst += kQK_K) {
    const float d = blocks[b].d;
    for (int j = 0; j < kQK_K; ++j) dst[j] = d * static_cast<float>(blocks[b].qs[j]);
  }
}

}  // namespace

void k_scale_min(const uint8_t* scales, int j, uint8_t* scale, uint8_t* min) {
  WAFER_CHECK(j >= 0 && j < 8, "k-quant sub-block {} out of range", j);
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

bool is_supported_weight_type(DType type) {
  switch (type) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ8_0:
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return true;
    default:
      return false;
  }
}

void dequantize_row(DType type, const void* src, float* dst, size_t n) {
  const DTypeTraits* tr = dtype_traits(static_cast<uint32_t>(type));
  WAFER_CHECK(tr != nullptr, "unknown type id {}", static_cast<uint32_t>(type));
  WAFER_CHECK(n % tr->block_elems == 0, "{} elements is not a whole number of {} blocks", n,
              tr->name);
  const size_t num_blocks = n / tr->block_elems;
  switch (type) {
    case DType::kF32:
      if (n > 0) std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::kF16: {
      const auto* p = static_cast<const uint8_t*>(src);
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      return;
    }
    case DType::kBF16: {
      const auto* p = static_cast<const uint8_t*>(src);
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      return;
    }
    case DType::kQ4_0:
      return dequantize_q4_0(static_cast<const BlockQ4_0*>(src), dst, num_blocks);
    case DType::kQ5_0:
      return dequantize_q5_0(static_cast<const BlockQ5_0*>(src), dst, num_blocks);
    case DType::kQ8_0:
      return dequantize_q8_0(static_cast<const BlockQ8_0*>(src), dst, num_blocks);
    case DType::kQ4_K:
      return dequantize_q4_k(static_cast<const BlockQ4_K*>(src), dst, num_blocks);
    case DType::kQ5_K:
      return dequantize_q5_k(static_cast<const BlockQ5_K*>(src), dst, num_blocks);
    case DType::kQ6_K:
      return dequantize_q6_k(static_cast<const BlockQ6_K*>(src), dst, num_blocks);
    case DType::kQ8_K:
      return dequantize_q8_k(static_cast<const BlockQ8_K*>(src), dst, num_blocks);
    default:
      WAFER_CHECK(false, "no decoder for type {}", tr->name);
  }
}

}  // namespace wafer
