// AVX-512 row decoding to floats, bit-exact with quant/codec.cc (same float operations in
// the same order, no contraction into FMAs): embedding lookups and the weight panels that
// prefill packs into AMX tiles.
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/simd.h"

namespace wafer::kernels::avx512 {
namespace {

inline __m512 bytes_to_ps(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)); }
inline __m512 sbytes_to_ps(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)); }
inline __m128i loadu128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

void plain(DType type, const uint8_t* row, size_t begin, size_t n, float* out) {
  for (size_t i = 0; i < n; i += 16) {
    const size_t k = n - i < 16 ? n - i : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << k) - 1u);
    const size_t e = begin + i;
    __m512 v;
    if (type == DType::kF32) v = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + e);
    else if (type == DType::kF16) v = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * e));
    else v = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, row + 2 * e)), 16));
    _mm512_mask_storeu_ps(out + i, m, v);
  }
}

// Q8_0/Q4_0/Q5_0: one block of 32 as signed integers times d.
void block32(DType type, const uint8_t* p, float* out) {
  const __m512 d = _mm512_set1_ps(f16_load(p));
  __m128i lo, hi;  // elements 0..15 and 16..31 as int8
  if (type == DType::kQ8_0) {
    lo = loadu128(p + 2);
    hi = loadu128(p + 18);
  } else {
    const __m128i v = loadu128(p + (type == DType::kQ4_0 ? 2 : 6));
    lo = _mm_and_si128(v, _mm_set1_epi8(0x0F));
    hi = _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0F));
    if (type == DType::kQ5_0) {
      uint32_t qh;
      __builtin_memcpy(&qh, p + 2, 4);
      lo = _mm_mask_add_epi8(lo, static_cast<__mmask16>(qh), lo, _mm_set1_epi8(16));
      hi = _mm_mask_add_epi8(hi, static_cast<__mmask16>(qh >> 16), hi, _mm_set1_epi8(16));
    }
    const __m128i offset = _mm_set1_epi8(type == DType::kQ4_0 ? 8 : 16);
    lo = _mm_sub_epi8(lo, offset);
    hi = _mm_sub_epi8(hi, offset);
  }
  _mm512_storeu_ps(out, _mm512_mul_ps(sbytes_to_ps(lo), d));
  _mm512_storeu_ps(out + 16, _mm512_mul_ps(sbytes_to_ps(hi), d));
}

// 32 unsigned values q (bytes) -> d * q - m.
inline void affine32(__m256i q, float d, float m, float* out) {
  const __m512 vd = _mm512_set1_ps(d), vm = _mm512_set1_ps(m);
  _mm512_storeu_ps(out, _mm512_sub_ps(_mm512_mul_ps(vd, bytes_to_ps(_mm256_castsi256_si128(q))), vm));
  _mm512_storeu_ps(out + 16, _mm512_sub_ps(_mm512_mul_ps(vd, bytes_to_ps(_mm256_extracti128_si256(q, 1))), vm));
}

void affine_k(bool five_bit, const uint8_t* p, float* out) {
  const float d = f16_load(p), dmin = f16_load(p + 2);
  const uint8_t* s = p + 4;
  const uint8_t* qs = p + (five_bit ? 48 : 16);
  const __m256i qh = five_bit ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16)) : _mm256_setzero_si256();
  for (int c = 0; c < 4; ++c, out += 64) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
    __m256i lo = _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
    if (five_bit) {
      const __m256i sixteen = _mm256_set1_epi8(16);
      lo = _mm256_mask_add_epi8(lo, _mm256_test_epi8_mask(qh, _mm256_set1_epi8(static_cast<char>(1 << (2 * c)))), lo, sixteen);
      hi = _mm256_mask_add_epi8(hi, _mm256_test_epi8_mask(qh, _mm256_set1_epi8(static_cast<char>(1 << (2 * c + 1)))), hi, sixteen);
    }
    for (int half = 0; half < 2; ++half) {
      const int j = 2 * c + half;
      const int sc = j < 4 ? s[j] & 63 : (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
      const int m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
      affine32(half == 0 ? lo : hi, d * static_cast<float>(sc), dmin * static_cast<float>(m), out + 32 * half);
    }
  }
}

void q6_k(const uint8_t* p, float* out) {
  const float d = f16_load(p + 208);
  const int8_t* sc = reinterpret_cast<const int8_t*>(p + 192);
  for (int h = 0; h < 2; ++h, out += 128) {
    const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64 * h));
    const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64 * h + 32));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 128 + 32 * h));
    const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x03), m32 = _mm256_set1_epi8(32);
    __m256i q[4];
    q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_slli_epi16(_mm256_and_si256(qh, two), 4));
    q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), two), 4));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), two), 4));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), two), 4));
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_sub_epi8(q[j], m32);
      for (int g = 0; g < 2; ++g) {
        const __m512 scale = _mm512_set1_ps(d * static_cast<float>(sc[8 * h + 2 * j + g]));
        const __m128i b = g == 0 ? _mm256_castsi256_si128(v) : _mm256_extracti128_si256(v, 1);
        _mm512_storeu_ps(out + 32 * j + 16 * g, _mm512_mul_ps(scale, sbytes_to_ps(b)));
      }
    }
  }
}

}  // namespace

void dequantize(const Matrix& w, size_t row, size_t col_begin, size_t n, float* out) {
  const uint8_t* r = w.data + row * w.row_bytes;
  switch (w.type) {
    case DType::kF32: case DType::kF16: case DType::kBF16: return plain(w.type, r, col_begin, n, out);
    case DType::kQ8_0: case DType::kQ4_0: case DType::kQ5_0: {
      const size_t bb = w.type == DType::kQ8_0 ? 34 : w.type == DType::kQ4_0 ? 18 : 22;
      for (size_t b = col_begin / 32; b < (col_begin + n) / 32; ++b, out += 32) block32(w.type, r + b * bb, out);
      return;
    }
    case DType::kQ4_K: case DType::kQ5_K: {
      const bool five = w.type == DType::kQ5_K;
      const size_t bb = five ? 176 : 144;
      for (size_t b = col_begin / 256; b < (col_begin + n) / 256; ++b, out += 256) affine_k(five, r + b * bb, out);
      return;
    }
    case DType::kQ6_K:
      for (size_t b = col_begin / 256; b < (col_begin + n) / 256; ++b, out += 256) q6_k(r + b * 210, out);
      return;
    default: return;
  }
}

}  // namespace wafer::kernels::avx512
