// Scalar reference encoders: round to nearest with a least-squares search for each block's
// scale (and min). Deterministic and simple rather than fast; used for tests, activations
// of reference kernels and writing quantised files, never on a hot path.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "base/half.h"
#include "quant/quant.h"

namespace wafer {
namespace {

// Candidate inverse scales tried around the plain range fit: (levels + kStep * k) / range.
constexpr int kSearchSteps = 10;
constexpr float kSearchStep = 0.1f;

// Rounds half away from zero, as ggml's reference quantisers do (so Q8_0 output matches
// llama-quantize byte for byte), then clamps, before converting so that out-of-range or
// NaN inputs stay defined.
int clamp_round(float v, int lo, int hi) {
  const float r =
      std::fmax(static_cast<float>(lo), std::fmin(static_cast<float>(hi), std::round(v)));
  return static_cast<int>(r);
}

// Symmetric fit x ~= scale * q, q in [-nmax, nmax - 1]. The element of largest magnitude
// maps near -nmax (so scale has the opposite sign to it) to use the wider negative side.
// Tries a few inverse scales, refits each by least squares, keeps the least squared error.
float fit_symmetric(const float* x, int n, int nmax) {
  float max = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > std::fabs(max)) max = x[i];
  if (max == 0.0f) return 0.0f;
  float sum_xx = 0.0f;
  for (int i = 0; i < n; ++i) sum_xx += x[i] * x[i];
  float best_scale = max / static_cast<float>(-nmax);
  float best_err = INFINITY;
  for (int k = -kSearchSteps; k <= kSearchSteps; ++k) {
    const float iscale = -(static_cast<float>(nmax) + kSearchStep * static_cast<float>(k)) / max;
    float sum_xq = 0.0f, sum_qq = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float q = static_cast<float>(clamp_round(iscale * x[i], -nmax, nmax - 1));
      sum_xq += x[i] * q;
      sum_qq += q * q;
    }
    if (sum_qq <= 0.0f) continue;
    const float err = sum_xx - sum_xq * sum_xq / sum_qq;
    if (err < best_err) {
      best_err = err;
      best_scale = sum_xq / sum_qq;
    }
  }
  return best_scale;
}

// Affine fit x ~= scale * q - offset, q in [0, nmax], scale >= 0, offset >= 0 (the grid
// always reaches down to zero or below, as the k-quant formats require).
struct AffineFit {
  float scale = 0.0f;
  float offset = 0.0f;
};

float affine_error(const float* x, int n, int nmax, float scale, float offset) {
  if (scale <= 0.0f) {
    float err = 0.0f;
    for (int i = 0; i < n; ++i) err += (x[i] + offset) * (x[i] + offset);
    return err;
  }
  const float inv = 1.0f / scale;
  float err = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float q = static_cast<float>(clamp_round((x[i] + offset) * inv, 0, nmax));
    const float diff = scale * q - offset - x[i];
    err += diff * diff;
  }
  return err;
}

AffineFit fit_affine(const float* x, int n, int nmax) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);
  if (hi <= lo) return {0.0f, -lo};
  AffineFit best{(hi - lo) / static_cast<float>(nmax), -lo};
  float best_err = affine_error(x, n, nmax, best.scale, best.offset);
  for (int k = -kSearchSteps; k <= kSearchSteps; ++k) {
    const float iscale =
        (static_cast<float>(nmax) + kSearchStep * static_cast<float>(k)) / (hi - lo);
    // Least squares of x ~= a * q + b over the grid this inverse scale assigns.
    float sq = 0.0f, sqq = 0.0f, sx = 0.0f, sqx = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float q = static_cast<float>(clamp_round((x[i] - lo) * iscale, 0, nmax));
      sq += q;
      sqq += q * q;
      sx += x[i];
      sqx += q * x[i];
    }
    const float det = static_cast<float>(n) * sqq - sq * sq;
    if (det <= 0.0f) continue;
    float a = (static_cast<float>(n) * sqx - sq * sx) / det;
    float b = (sqq * sx - sq * sqx) / det;
    if (b > 0.0f) {  // the grid must reach zero: refit with b = 0
      b = 0.0f;
      a = sqx / sqq;
    }
    if (a <= 0.0f) continue;
    const float err = affine_error(x, n, nmax, a, -b);
    if (err < best_err) {
      best_err = err;
      best = {a, -b};
    }
  }
  return best;
}

// The nearest f16 at or above v >= 0. Super-block scales round up so that no sub-block
// scale overflows its integer range, which matters once d is an f16 subnormal.
uint16_t f16_at_least(float v) {
  uint16_t h = f32_to_f16(v);
  if (f16_to_f32(h) < v) ++h;
  return h;
}

// Inverse of k_scale_min: packs eight 6-bit scales and mins into 12 bytes.
void pack_k_scales(const uint8_t* sc, const uint8_t* m, uint8_t* out) {
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<uint8_t>(sc[j] | (sc[j + 4] >> 4) << 6);
    out[j + 4] = static_cast<uint8_t>(m[j] | (m[j + 4] >> 4) << 6);
    out[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0F) | (m[j + 4] & 0x0F) << 4);
  }
}

// The integer in [lo, hi] nearest to v / step; 0 when step is 0.
int quantize_to_step(float v, float step, int lo, int hi) {
  return step != 0.0f ? clamp_round(v / step, lo, hi) : 0;
}

void quantize_q8_0(const float* x, BlockQ8_0* blocks, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d > 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK; ++j)
      blocks[b].qs[j] = static_cast<int8_t>(clamp_round(x[j] * id, -127, 127));
  }
}

// Q4_0 and Q5_0 share the symmetric fit; bits is 4 or 5. q holds the offset values 0..2^bits-1.
// Returns d as f16 bits.
uint16_t quantize_symmetric_block(const float* x, int bits, uint8_t* q) {
  const int nmax = 1 << (bits - 1);
  const uint16_t d_h = f32_to_f16(fit_symmetric(x, kQK, nmax));
  const float d = f16_to_f32(d_h);
  for (int j = 0; j < kQK; ++j)
    q[j] = static_cast<uint8_t>(quantize_to_step(x[j], d, -nmax, nmax - 1) + nmax);
  return d_h;
}

void quantize_q4_0(const float* x, BlockQ4_0* blocks, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, x += kQK) {
    uint8_t q[kQK];
    blocks[b].d = quantize_symmetric_block(x, 4, q);
    for (int j = 0; j < kQK / 2; ++j)
      blocks[b].qs[j] = static_cast<uint8_t>(q[j] | q[j + kQK / 2] << 4);
  }
}

void quantize_q5_0(const float* x, BlockQ5_0* blocks, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, x += kQK) {
    uint8_t q[kQK];
    blocks[b].d = quantize_symmetric_block(x, 5, q);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      blocks[b].qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | (q[j + kQK / 2] & 0x0F) << 4);
      qh |= static_cast<uint32_t>(q[j] >> 4) << j;
      qh |= static_cast<uint32_t>(q[j + kQK / 2] >> 4) << (j + kQK / 2);
    }
    for (int i = 0; i < 4; ++i) blocks[b].qh[i] = static_cast<uint8_t>(qh >> (8 * i));
  }
}

// Q4_K and Q5_K: fits each 32-element sub-block, quantises the eight scales and offsets to
// 6 bits against the super-block's d and dmin, then rounds every element against the
// quantised grid. Writes d, dmin (f16 bits), scales and q (0..2^bits-1, element order).
struct KScales {
  uint16_t d = 0;
  uint16_t dmin = 0;
};
KScales quantize_k_affine(const float* x, int bits, uint8_t* scales, uint8_t* q) {
  const int nmax = (1 << bits) - 1;
  AffineFit fits[8];
  float max_scale = 0.0f, max_offset = 0.0f;
  for (int j = 0; j < 8; ++j) {
    fits[j] = fit_affine(x + 32 * j, 32, nmax);
    max_scale = std::max(max_scale, fits[j].scale);
    max_offset = std::max(max_offset, fits[j].offset);
  }
  const KScales out{f16_at_least(max_scale / 63.0f), f16_at_least(max_offset / 63.0f)};
  const float d = f16_to_f32(out.d);
  const float dmin = f16_to_f32(out.dmin);
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = static_cast<uint8_t>(quantize_to_step(fits[j].scale, d, 0, 63));
    m[j] = static_cast<uint8_t>(quantize_to_step(fits[j].offset, dmin, 0, 63));
    // The same float products the decoder forms.
    const float step = d * sc[j];
    const float offset = dmin * m[j];
    for (int l = 0; l < 32; ++l)
      q[32 * j + l] = static_cast<uint8_t>(quantize_to_step(x[32 * j + l] + offset, step, 0, nmax));
  }
  pack_k_scales(sc, m, scales);
  return out;
}

void quantize_q4_k(const float* x, BlockQ4_K* blocks, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, x += kQK_K) {
    BlockQ4_K& blk = blocks[b];
    uint8_t q[kQK_K];
    const KScales ks = quantize_k_affine(x, 4, blk.scales, q);
    blk.d = ks.d;
    blk.dmin = ks.dmin;
    for (int c = 0; c < kQK_K / 64; ++c)
      for (int l = 0; l < 32; ++l)
        blk.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | q[64 * c + 32 + l] << 4);
  }
}

void quantize_q5_k(const float* x, BlockQ5_K* blocks, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, x += kQK_K) {
    BlockQ5_K& blk = blocks[b];
    uint8_t q[kQK_K];
    const KScales ks = quantize_k_affine(x, 5, blk.scales, q);
    blk.d = ks.d;
    blk.dmin = ks.dmin;
    std::memset(blk.qh, 0, sizeof(blk.qh));
    for (int c = 0; c < kQK_K / 64; ++c) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        blk.qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0F) | (hi & 0x0F) << 4);
        blk.qh[l] |= static_cast<uint8_t>((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
      }
    }
  }
}

// Q6_K: symmetric fits of sixteen 16-element groups, int8 scales against d = max|scale|/127.
void quantize_q6_k(const float* x, BlockQ6_K* blocks, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, x += kQK_K) {
    BlockQ6_K& blk = blocks[b];
    float fits[16];
    float max_abs = 0.0f;
    for (int g = 0; g < 16; ++g) {
      fits[g] = fit_symmetric(x + 16 * g, 16, 32);
      max_abs = std::max(max_abs, std::fabs(fits[g]));
    }
    blk.d = f16_at_least(max_abs / 127.0f);
    const float d = f16_to_f32(blk.d);
    uint8_t q[kQK_K];  // 0..63
    for (int g = 0; g < 16; ++g) {
      blk.scales[g] = static_cast<int8_t>(quantize_to_step(fits[g], d, -128, 127));
      const float step = d * blk.scales[g];
      for (int l = 0; l < 16; ++l)
        q[16 * g + l] = static_cast<uint8_t>(quantize_to_step(x[16 * g + l], step, -32, 31) + 32);
    }
    // Each half of 128: element l (0..31) and its partners l+32, l+64, l+96.
    for (int h = 0; h < 2; ++h) {
      const uint8_t* qq = q + 128 * h;
      uint8_t* ql = blk.ql + 64 * h;
      uint8_t* qh = blk.qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((qq[l] & 0x0F) | (qq[l + 64] & 0x0F) << 4);
        ql[l + 32] = static_cast<uint8_t>((qq[l + 32] & 0x0F) | (qq[l + 96] & 0x0F) << 4);
        qh[l] = static_cast<uint8_t>((qq[l] >> 4) | (qq[l + 32] >> 4) << 2 |
                                     (qq[l + 64] >> 4) << 4 | (qq[l + 96] >> 4) << 6);
      }
    }
  }
}

// Q8_K: the element of largest magnitude maps to -128; bsums are the sums of each 16 qs.
void quantize_q8_k(const float* x, BlockQ8_K* blocks, size_t num_blocks) {
  for (size_t b = 0; b < num_blocks; ++b, x += kQK_K) {
    BlockQ8_K& blk = blocks[b];
    float max = 0.0f;
    for (int j = 0; j < kQK_K; ++j)
      if (std::fabs(x[j]) > std::fabs(max)) max = x[j];
    const float iscale = max != 0.0f ? -128.0f / max : 0.0f;
    blk.d = max != 0.0f ? 1.0f / iscale : 0.0f;
    for (int j = 0; j < kQK_K; ++j)
      blk.qs[j] = static_cast<int8_t>(clamp_round(iscale * x[j], -128, 127));
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += blk.qs[16 * g + l];
      blk.bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

void store_u16(void* dst, size_t i, uint16_t v) {
  std::memcpy(static_cast<uint8_t*>(dst) + 2 * i, &v, 2);
}

}  // namespace

void quantize_row(DType type, const float* src, void* dst, size_t n) {
  const DTypeTraits* tr = dtype_traits(static_cast<uint32_t>(type));
  WAFER_CHECK(tr != nullptr, "unknown type id {}", static_cast<uint32_t>(type));
  WAFER_CHECK(n % tr->block_elems == 0, "{} elements is not a whole number of {} blocks", n,
              tr->name);
  const size_t num_blocks = n / tr->block_elems;
  switch (type) {
    case DType::kF32:
      if (n > 0) std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) store_u16(dst, i, f32_to_f16(src[i]));
      return;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) store_u16(dst, i, f32_to_bf16(src[i]));
      return;
    case DType::kQ8_0:
      return quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), num_blocks);
    case DType::kQ4_0:
      return quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), num_blocks);
    case DType::kQ5_0:
      return quantize_q5_0(src, static_cast<BlockQ5_0*>(dst), num_blocks);
    case DType::kQ4_K:
      return quantize_q4_k(src, static_cast<BlockQ4_K*>(dst), num_blocks);
    case DType::kQ5_K:
      return quantize_q5_k(src, static_cast<BlockQ5_K*>(dst), num_blocks);
    case DType::kQ6_K:
      return quantize_q6_k(src, static_cast<BlockQ6_K*>(dst), num_blocks);
    case DType::kQ8_K:
      return quantize_q8_k(src, static_cast<BlockQ8_K*>(dst), num_blocks);
    default:
      WAFER_CHECK(false, "no encoder for type {}", tr->name);
  }
}

}  // namespace wafer
