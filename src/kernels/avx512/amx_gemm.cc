// AMX-BF16 prefill product: the 2x2-tile product loop over panels packed by panel_pack.cc.
// Tiles: 0-3 accumulators (2 token tiles x 2 row halves), 4-5 activations, 6-7 weights.
#include <immintrin.h>

#include "kernels/amx_gemm.h"
#include "kernels/avx512/kernels.h"

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

const GemmKernels kAmxKernels = {convert_activations_bf16, pack_panel_bf16, panel_product};

}  // namespace wafer::kernels::avx512
