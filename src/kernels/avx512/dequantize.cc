// AVX-512 row decoding to floats, for embedding lookups and for packing weight panels
// before matrix-matrix products.
#include "kernels/avx512/kernels.h"
#include "kernels/avx512/simd.h"
#include "quant/quant.h"

namespace wafer::kernels::avx512 {

void dequantize(const Matrix& w, size_t row, size_t col_begin, size_t n, float* out) {
  const size_t block_elems = w.type == DType::kF32 || w.type == DType::kF16 || w.type == DType::kBF16
                                 ? 1
                                 : (w.type == DType::kQ8_0 || w.type == DType::kQ4_0 || w.type == DType::kQ5_0 ? 32 : 256);
  const size_t block_bytes = w.row_bytes / (w.cols / block_elems);
  dequantize_row(w.type, w.data + row * w.row_bytes + col_begin / block_elems * block_bytes, out, n);
}

}  // namespace wafer::kernels::avx512
