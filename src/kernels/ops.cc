// The public compute ops: matrix products and row lookups go to the kernel level chosen at
// start-up; the element-wise ops are small enough to stay plain C++.
#include "kernels/ops.h"

#include <cmath>

#include "kernels/dispatch.h"

namespace wafer {

void matmul(const WeightView& w, const float* x, size_t num_tokens, float* y, ThreadPool& pool) {
  kernels::matmul_with(kernels::active_kernel_table(), w, x, num_tokens, y, pool);
}

void get_row(const WeightView& w, size_t row, float* out) {
  kernels::get_row_with(kernels::active_kernel_table(), w, row, out);
}

const char* kernel_isa_name() { return kernels::active_kernel_table().name; }

void rms_norm(const float* x, const float* weight, float eps, size_t n, float* out) {
  double sum_sq = 0.0;
  for (size_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  for (size_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void silu_mul(const float* gate, const float* up, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace wafer
