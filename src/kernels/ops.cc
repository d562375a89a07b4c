// The public compute ops, each run on the kernel level chosen at start-up.
#include "kernels/ops.h"

#include <cstdlib>
#include <string_view>

#include "kernels/dispatch.h"

namespace wafer {

void matmul(const WeightView& w, const float* x, size_t num_tokens, float* y, ThreadPool& pool,
            MatmulKernel kernel) {
  kernels::matmul_with(kernels::active_kernel_table(), w, x, num_tokens, y, pool, kernel);
}

void matmul_shared(std::span<const MatmulTarget> targets, const float* x, size_t num_tokens, ThreadPool& pool,
                   MatmulKernel kernel) {
  kernels::matmul_shared_with(kernels::active_kernel_table(), targets, x, num_tokens, pool, kernel);
}

void get_row(const WeightView& w, size_t row, float* out) {
  kernels::get_row_with(kernels::active_kernel_table(), w, row, out);
}

bool repack_weights(WeightView* w, WeightStorage* storage, ThreadPool* pool) {
  static const bool enabled = [] {
    const char* env = std::getenv("WAFER_REPACK");
    return env == nullptr || std::string_view(env) != "0";
  }();
  return enabled && kernels::repack_weights_for(kernels::active_kernel_table(), w, storage, pool);
}

const char* kernel_isa_name() { return kernels::active_kernel_table().name; }

void rms_norm(const float* x, const float* weight, float eps, size_t n, float* out) {
  kernels::active_kernel_table().rms_norm(x, weight, eps, n, out);
}

void silu_mul(const float* gate, const float* up, size_t n, float* out) {
  kernels::active_kernel_table().silu_mul(gate, up, n, out);
}

}  // namespace wafer
