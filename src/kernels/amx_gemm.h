// Matrix-matrix products for prefill on bf16 panels: activations as bf16 rows, weights
// decoded to f32 then packed as bf16 pair-interleaved tiles, f32 accumulation; run on AMX
// tiles where present, else with AVX-512 BF16 dot products over the same panels.
// F16/F32 weights and float activations are split into bf16 hi + lo parts so the three
// products hi*hi + hi*lo + lo*hi keep ~16 bits of each operand.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wafer::kernels {

constexpr size_t kAmxTileTokens = 16;  // tokens per tile (rows of A, C)
constexpr size_t kAmxPanelRows = 32;   // weight rows per packed panel (two B tiles)
constexpr size_t kAmxKStep = 32;       // elements of k per tile product

// One panel's product over a range of k for all tokens:
// y[t * y_stride + n] (+)= sum_k x[t][k] * w[n][k], t < num_tokens, n < num_rows.
struct AmxPanelArgs {
  const uint16_t* x_hi = nullptr;  // [round_up(num_tokens, 32)][x_stride] bf16, at the k start
  const uint16_t* x_lo = nullptr;  // same shape, or null: x - hi, when the weights need it
  size_t x_stride = 0;             // elements between tokens
  size_t num_tokens = 0;
  const uint16_t* w_hi = nullptr;  // packed panel (pack_panel), k_steps * 2 tiles of 512
  const uint16_t* w_lo = nullptr;  // or null
  size_t k_steps = 0;
  size_t num_rows = 0;             // valid rows of the panel, <= 32
  float* y = nullptr;              // at the panel's first row
  size_t y_stride = 0;
  bool accumulate = false;         // add to y (later k ranges) rather than overwrite
};

// The exact f32 product for F32/F16 weights where bf16 products would need hi and lo parts
// (three products): y[t * y_stride + n] (+)= sum_k x[t * x_stride + k] * w[n][k].
struct F32PanelArgs {
  const float* x = nullptr;        // [num_tokens][x_stride] f32 activations, at the k start
  size_t x_stride = 0;
  size_t num_tokens = 0;
  const float* w = nullptr;        // packed panel (pack_panel_f32): k_len groups of 32 rows
  size_t k_len = 0;
  size_t num_rows = 0;             // valid rows of the panel, <= 32
  float* y = nullptr;              // at the panel's first row
  size_t y_stride = 0;
  bool accumulate = false;
};

// The bf16 functions (the first three) are null on a level with only f32 panels (AVX2),
// where every weight type takes those.
struct GemmKernels {
  // One token: hi[i] = bf16(x[i]); lo[i] = bf16(x[i] - hi[i]) when lo is not null;
  // elements cols..cols_pad-1 set to zero.
  void (*convert_activations)(const float* x, size_t cols, size_t cols_pad, uint16_t* hi,
                              uint16_t* lo);
  // rows: num_rows (<= 32) rows of k_len floats (k_len a multiple of 32), row_stride apart;
  // missing rows count as zero. Writes k_len / 32 * 2 tiles of 512 bf16 to hi (and lo).
  void (*pack_panel)(const float* rows, size_t row_stride, size_t num_rows, size_t k_len,
                     uint16_t* hi, uint16_t* lo);
  void (*panel_product)(const AmxPanelArgs& args);
  // Optional (null: F32/F16 weights take the bf16 hi/lo products). rows as for pack_panel,
  // k_len a multiple of 16; writes out[k * 32 + n] = rows[n][k], zero past num_rows.
  void (*pack_panel_f32)(const float* rows, size_t row_stride, size_t num_rows, size_t k_len, float* out) = nullptr;
  void (*panel_product_f32)(const F32PanelArgs& args) = nullptr;
};

namespace avx2 {
extern const GemmKernels kF32GemmKernels;    // exact f32 panels only, for every weight type
}  // namespace avx2

namespace avx512 {
extern const GemmKernels kAmxKernels;        // AMX tiles
extern const GemmKernels kBf16GemmKernels;   // AVX-512 BF16 (vdpbf16ps), for CPUs without AMX
}  // namespace avx512

}  // namespace wafer::kernels
