// The AVX-512 level's kernels (files in avx512/, built with AVX-512 F/BW/VL/DQ/VNNI/BF16
// flags). Call only where detect_cpu_features().avx512 holds. Contracts in kernel_table.h.
#pragma once

#include "kernels/kernel_table.h"

namespace wafer::kernels::avx512 {

void quantize_q8_block32(const float* x, size_t cols, int8_t* qs, float* lane_scale,
                         int32_t* lane_neg_sum);
void quantize_q8_block256(const float* x, size_t cols, int8_t* qs, float* scale,
                          int16_t* group_sum);

void matvec_f32(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                size_t num_tokens, float* y);
void matvec_f16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                size_t num_tokens, float* y);
void matvec_bf16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y);
void matvec_q8_0(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y);
// Q8_0 in WeightLayout::kQ8_0Rows16 (kernels/repack.h); rows in whole groups of 16.
void matvec_q8_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                        size_t num_tokens, float* y);
// Q4_K in WeightLayout::kQ4_KRows16 (kernels/repack.h); rows in whole groups of 16.
void matvec_q4_k_rows16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                        size_t num_tokens, float* y);
// Q5_0 in WeightLayout::kQ5_0Rows16 (kernels/repack.h); rows in whole groups of 16.
void matvec_q5_0_rows16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                        size_t num_tokens, float* y);
// Q6_K in WeightLayout::kQ6_KRows16 (kernels/repack.h); rows in whole groups of 16.
void matvec_q6_k_rows16(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                        size_t num_tokens, float* y);
void matvec_q4_0(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y);
void matvec_q5_0(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y);
void matvec_q4_k(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y);
void matvec_q5_k(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y);
void matvec_q6_k(const Matrix& w, size_t row_begin, size_t row_end, const Activations& act,
                 size_t num_tokens, float* y);

void dequantize(const Matrix& w, size_t row, size_t col_begin, size_t n, float* out);

// The bf16 panel format of amx_gemm.h (GemmKernels::convert_activations, pack_panel).
void convert_activations_bf16(const float* x, size_t cols, size_t cols_pad, uint16_t* hi, uint16_t* lo);
void pack_panel_bf16(const float* rows, size_t row_stride, size_t num_rows, size_t k_len, uint16_t* hi,
                     uint16_t* lo);
void pack_panel_f32(const float* rows, size_t row_stride, size_t num_rows, size_t k_len, float* out);

void rms_norm(const float* x, const float* weight, float eps, size_t n, float* out);
void silu_mul(const float* gate, const float* up, size_t n, float* out);

}  // namespace wafer::kernels::avx512
