// AMX-BF16 pieces of the prefill product: bf16 conversion of activations, packing of
// decoded weight panels into pair-interleaved B tiles, and the 2x2-tile product loop.
// Tiles: 0-3 accumulators (2 token tiles x 2 row halves), 4-5 activations, 6-7 weights.
#include <immintrin.h>

#include "kernels/amx_gemm.h"

namespace wafer::kernels::avx512 {
namespace {

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

void configure_tiles() {
  TileConfig cfg;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  _tile_loadconfig(&cfg);
}

// 16 floats to bf16 (round to nearest even), and the bf16 of what that rounding left.
inline void split_bf16(__m512 v, __m256i* hi, __m256i* lo) {
  const __m256bh h = _mm512_cvtneps_pbh(v);
  *hi = (__m256i)h;
  if (lo != nullptr) {
    const __m512 rest = _mm512_sub_ps(v, _mm512_cvtpbh_ps(h));
    const __m256bh l = _mm512_cvtneps_pbh(rest);
    *lo = (__m256i)l;
  }
}

void convert_activations(const float* x, size_t cols, size_t cols_pad, uint16_t* hi, uint16_t* lo) {
  for (size_t i = 0; i < cols_pad; i += 16) {
    const size_t n = i >= cols ? 0 : (cols - i < 16 ? cols - i : 16);
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
    __m256i h, l;
    split_bf16(_mm512_maskz_loadu_ps(m, x + i), &h, lo != nullptr ? &l : nullptr);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + i), h);
    if (lo != nullptr) _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + i), l);
  }
}

// In-register transpose of a 16x16 matrix of 32-bit elements.
void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // r[4q + j] now holds rows 4q..4q+3, column group j of every 128-bit lane.
  for (int j = 0; j < 4; ++j) {
    const __m512i a = _mm512_shuffle_i32x4(r[j], r[4 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i b = _mm512_shuffle_i32x4(r[j], r[4 + j], _MM_SHUFFLE(3, 1, 3, 1));
    const __m512i c = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i d = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
    t[j] = _mm512_shuffle_i32x4(a, c, _MM_SHUFFLE(2, 0, 2, 0));
    t[j + 4] = _mm512_shuffle_i32x4(b, d, _MM_SHUFFLE(2, 0, 2, 0));
    t[j + 8] = _mm512_shuffle_i32x4(a, c, _MM_SHUFFLE(3, 1, 3, 1));
    t[j + 12] = _mm512_shuffle_i32x4(b, d, _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// One B tile: rows[n][0..31] of 16 rows -> tile[kk][n] = pair (2kk, 2kk+1) of row n.
void pack_tile(const float* rows, size_t row_stride, size_t num_rows, uint16_t* hi, uint16_t* lo) {
  __m512i h[16], l[16];
  for (size_t n = 0; n < 16; ++n) {
    const bool valid = n < num_rows;
    const float* p = rows + n * row_stride;
    const __m512 v0 = valid ? _mm512_loadu_ps(p) : _mm512_setzero_ps();
    const __m512 v1 = valid ? _mm512_loadu_ps(p + 16) : _mm512_setzero_ps();
    __m256i h0, h1, l0, l1;
    split_bf16(v0, &h0, lo != nullptr ? &l0 : nullptr);
    split_bf16(v1, &h1, lo != nullptr ? &l1 : nullptr);
    h[n] = _mm512_inserti64x4(_mm512_castsi256_si512(h0), h1, 1);
    if (lo != nullptr) l[n] = _mm512_inserti64x4(_mm512_castsi256_si512(l0), l1, 1);
  }
  transpose16(h);
  for (int kk = 0; kk < 16; ++kk) _mm512_storeu_si512(hi + 32 * kk, h[kk]);
  if (lo == nullptr) return;
  transpose16(l);
  for (int kk = 0; kk < 16; ++kk) _mm512_storeu_si512(lo + 32 * kk, l[kk]);
}

void pack_panel(const float* rows, size_t row_stride, size_t num_rows, size_t k_len, uint16_t* hi,
                uint16_t* lo) {
  for (size_t s = 0; s < k_len / kAmxKStep; ++s) {
    for (size_t half = 0; half < 2; ++half) {
      const size_t tile = 2 * s + half;
      const size_t first = 16 * half;
      const size_t n = num_rows > first ? num_rows - first : 0;
      pack_tile(rows + first * row_stride + kAmxKStep * s, row_stride, n < 16 ? n : 16,
                hi + 512 * tile, lo != nullptr ? lo + 512 * tile : nullptr);
    }
  }
}

// Adds (or stores) the four accumulator tiles into y, dropping padding tokens and rows.
void merge_tiles(const AmxPanelArgs& a, size_t tok0) {
  alignas(64) float buf[4][16][16];
  _tile_stored(0, buf[0], 64);
  _tile_stored(1, buf[1], 64);
  _tile_stored(2, buf[2], 64);
  _tile_stored(3, buf[3], 64);
  for (size_t half = 0; half < 2; ++half) {
    const size_t first = 16 * half;
    const size_t n = a.num_rows > first ? (a.num_rows - first < 16 ? a.num_rows - first : 16) : 0;
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
    for (size_t tt = 0; tt < 2; ++tt) {
      for (size_t i = 0; i < 16; ++i) {
        const size_t t = tok0 + 16 * tt + i;
        if (t >= a.num_tokens || m == 0) continue;
        float* out = a.y + t * a.y_stride + first;
        __m512 v = _mm512_load_ps(buf[2 * tt + half][i]);
        if (a.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, out));
        _mm512_mask_storeu_ps(out, m, v);
      }
    }
  }
}

template <bool kXLo, bool kWLo>
void panel_product_impl(const AmxPanelArgs& a) {
  const size_t x_bytes = a.x_stride * 2;
  for (size_t tok0 = 0; tok0 < a.num_tokens; tok0 += 2 * kAmxTileTokens) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    const uint16_t* xh = a.x_hi + tok0 * a.x_stride;
    const uint16_t* xl = kXLo ? a.x_lo + tok0 * a.x_stride : nullptr;
    for (size_t s = 0; s < a.k_steps; ++s) {
      const size_t k = kAmxKStep * s;
      _tile_loadd(4, xh + k, x_bytes);
      _tile_loadd(5, xh + 16 * a.x_stride + k, x_bytes);
      _tile_loadd(6, a.w_hi + 1024 * s, 64);
      _tile_loadd(7, a.w_hi + 1024 * s + 512, 64);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
      if (kXLo) {
        _tile_loadd(4, xl + k, x_bytes);
        _tile_loadd(5, xl + 16 * a.x_stride + k, x_bytes);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      if (kWLo) {
        _tile_loadd(4, xh + k, x_bytes);
        _tile_loadd(5, xh + 16 * a.x_stride + k, x_bytes);
        _tile_loadd(6, a.w_lo + 1024 * s, 64);
        _tile_loadd(7, a.w_lo + 1024 * s + 512, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
    }
    merge_tiles(a, tok0);
  }
}

void panel_product(const AmxPanelArgs& a) {
  configure_tiles();
  if (a.x_lo != nullptr && a.w_lo != nullptr) panel_product_impl<true, true>(a);
  else if (a.x_lo != nullptr) panel_product_impl<true, false>(a);
  else if (a.w_lo != nullptr) panel_product_impl<false, true>(a);
  else panel_product_impl<false, false>(a);
  _tile_release();
}

}  // namespace

const AmxKernels kAmxKernels = {convert_activations, pack_panel, panel_product};

}  // namespace wafer::kernels::avx512
