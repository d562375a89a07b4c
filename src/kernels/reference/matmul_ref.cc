// Scalar reference matmul: decode one weight row at a time, dot it with every token.
// Accumulates in double so it can serve as the spec for faster kernels.
#include <vector>

#include "kernels/ops.h"
#include "kernels/repack.h"
#include "quant/quant.h"

namespace wafer::reference {

void matmul(const WeightView& w, const float* x, size_t num_tokens, float* y, ThreadPool& pool) {
  pool.parallel_for(w.rows, 16, [&](size_t begin, size_t end) {
    std::vector<float> row(w.cols);
    const size_t stride = w.row_stride_bytes();
    std::vector<uint8_t> unpacked(w.layout == WeightLayout::kRows ? 0 : stride);
    const kernels::Matrix m{w.type, w.rows, w.cols, stride, w.data, w.layout};
    for (size_t r = begin; r < end; ++r) {
      const uint8_t* bytes = w.data + r * stride;
      if (w.layout != WeightLayout::kRows) {
        kernels::unpack_rows16(m, r, 0, w.cols / traits(w.type).block_elems, unpacked.data());
        bytes = unpacked.data();
      }
      dequantize_row(w.type, bytes, row.data(), w.cols);
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
