// The compute ops the model's forward pass needs, over float activations and weights of any
// supported type. Each op has a scalar reference (kernels/reference/) that is the spec;
// faster versions are chosen once at start-up and tested against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/dtype.h"
#include "base/large_buffer.h"
#include "base/thread_pool.h"

namespace wafer {

// A weight matrix: `rows` rows of `cols` elements. In the file's layout (kRows) each row is
// row_bytes(type, cols) bytes and rows are contiguous; repack_weights may move a matrix to a
// layout of the active kernels (same bytes in all, different order).
struct WeightView {
  DType type = DType::kF32;
  size_t rows = 0;
  size_t cols = 0;
  const uint8_t* data = nullptr;
  WeightLayout layout = WeightLayout::kRows;
  size_t row_stride_bytes() const { return row_bytes(type, cols); }
};

// Which kernels a matmul may take. kAuto picks by token count (matrix-vector products for a
// few tokens, panel products for many); kPerToken always takes the matrix-vector kernels,
// whose result for a token does not depend on the other tokens of the call (batched decode
// steps use it so a stream's output is the same alone or batched).
enum class MatmulKernel { kAuto, kPerToken };

// y[t, r] = sum_c w[r, c] * x[t, c] for t < num_tokens, r < w.rows.
// x: [num_tokens, w.cols] row-major, y: [num_tokens, w.rows] row-major.
void matmul(const WeightView& w, const float* x, size_t num_tokens, float* y, ThreadPool& pool,
            MatmulKernel kernel = MatmulKernel::kAuto);

// One product of a matmul_shared: y = w x.
struct MatmulTarget {
  const WeightView* w;
  float* y;
};

// matmul(*t.w, x, num_tokens, t.y, pool, kernel) for every target, with the same results:
// for products that read one input (Q, K and V; gate and up). The matrix-vector kernels
// quantise x once per activation format and split the rows of all targets in one pass over
// the pool, so a decode step waits at one barrier instead of one per matrix.
void matmul_shared(std::span<const MatmulTarget> targets, const float* x, size_t num_tokens, ThreadPool& pool,
                   MatmulKernel kernel = MatmulKernel::kAuto);

// Owned bytes of a repacked matrix.
using WeightStorage = LargeBuffer;

// Moves a matrix in the file's row layout out of the mapped file into `storage` (huge pages
// where it spans them), points w at it and returns true: in the layout the active level's
// matrix-vector kernels read fastest where it has one (Q8_0, Q5_0, Q4_K on AVX-512: rows
// interleaved by 16), else row for row as in the file. Returns false and leaves both alone
// at the reference level or for a matrix already in a grouped layout. Every op gives the
// same results on either layout. WAFER_REPACK=0 in the environment turns it off. `pool`
// (optional) shares the work.
bool repack_weights(WeightView* w, WeightStorage* storage, ThreadPool* pool = nullptr);

// Copies row `row` of w, decoded to float, into out[w.cols] (embedding lookup).
void get_row(const WeightView& w, size_t row, float* out);

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i], i < n.
void rms_norm(const float* x, const float* weight, float eps, size_t n, float* out);

// out[i] = silu(gate[i]) * up[i].
void silu_mul(const float* gate, const float* up, size_t n, float* out);

// The instruction-set level the kernels above run on: "amx", "avx512", "avx2" or
// "reference". Chosen once, at first use, from CPUID; the environment variable
// WAFER_ISA=reference|avx2|avx512|amx caps it (for tests and A/B comparisons).
const char* kernel_isa_name();

namespace reference {
void matmul(const WeightView& w, const float* x, size_t num_tokens, float* y, ThreadPool& pool);
}  // namespace reference

}  // namespace wafer
