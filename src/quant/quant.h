// Block formats of quantised weights and their scalar reference codecs: the spec every
// optimised kernel is tested against. Layouts are GGUF's (ggml's) bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/dtype.h"

namespace wafer {

constexpr int kQK = 32;     // elements per block of q4_0, q5_0, q8_0
constexpr int kQK_K = 256;  // elements per super-block of the k-quants
constexpr int kKScaleBytes = 12;

#pragma pack(push, 1)
struct BlockQ4_0 { uint16_t d; uint8_t qs[kQK / 2]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[kQK]; };
struct BlockQ4_K { uint16_t d; uint16_t dmin; uint8_t scales[kKScaleBytes]; uint8_t qs[kQK_K / 2]; };
struct BlockQ5_K { uint16_t d; uint16_t dmin; uint8_t scales[kKScaleBytes]; uint8_t qh[kQK_K / 8]; uint8_t qs[kQK_K / 2]; };
struct BlockQ6_K { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; uint16_t d; };
// Activations for k-quant dot products: f32 scale, int8 values, sums of each 16.
struct BlockQ8_K { float d; int8_t qs[kQK_K]; int16_t bsums[kQK_K / 16]; };
#pragma pack(pop)

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// Types wafer can run: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K.
bool is_supported_weight_type(DType type);

// Reference decoders: n elements (a multiple of the type's block size) from src to dst.
void dequantize_row(DType type, const void* src, float* dst, size_t n);

// Reference encoders: n elements from src to dst. Q8_0 and F16 are byte-identical with
// llama-quantize; the other types pick each block's scales by a small least-squares search
// (no importance matrix), rounding half away from zero.
void quantize_row(DType type, const float* src, void* dst, size_t n);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block, unpacked from
// its 12 scale bytes. Sub-blocks 0..3: scale = low 6 bits of byte j, min = low 6 bits of
// byte j+4. Sub-blocks 4..7: low nibble / high nibble of byte j+4 give the low 4 bits of
// scale / min; their top 2 bits are the top 2 bits of byte j-4 / byte j.
void k_scale_min(const uint8_t* scales, int j, uint8_t* scale, uint8_t* min);

}  // namespace wafer
