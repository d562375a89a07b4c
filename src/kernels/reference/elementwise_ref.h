// Scalar element-wise ops: the spec for the vector ones (ops.h documents the semantics).
#pragma once

#include <cstddef>

namespace wafer::reference {

void rms_norm(const float* x, const float* weight, float eps, size_t n, float* out);
void silu_mul(const float* gate, const float* up, size_t n, float* out);

}  // namespace wafer::reference
