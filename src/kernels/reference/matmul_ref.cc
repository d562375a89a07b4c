// Scalar reference matmul: decode one weight row at a time, dot it with every token.
// Accumulates in double so it can serve as the spec for faster kernels.
#include <vector>

#include "kernels/ops.h"
#include "quant/quant.h"

namespace wafer::reference {

void matmul(const WeightView& w, const float* x, size_t num_tokens, float* y, ThreadPool& pool) {
  pool.parallel_for(w.rows, 16, [&](size_t begin, size_t end) {
    std::vector<float> row(w.cols);
    const size_t stride = w.row_stride_bytes();
    for (size_t r = begin; r < end; ++r) {
      dequantize_row(w.type, w.data + r * stride, row.data(), w.cols);
      for (size_t t = 0; t < num_tokens; ++t) {
        const float* xt = x + t * w.cols;
        double acc = 0.0;
        for (size_t c = 0; c < w.cols; ++c) acc += static_cast<double>(row[c]) * xt[c];
        y[t * w.rows + r] = static_cast<float>(acc);
      }
    }
  });
}

}  // namespace wafer::reference
