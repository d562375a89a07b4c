// Helpers shared by the AVX-512 kernel files. Only avx512/*.cc include this; everything here
// has internal linkage so no copy built with AVX-512 flags can leak into other code.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_table.h"

namespace wafer::kernels::avx512 {
namespace {

// Most tokens one pass over a weight row dots at once (accumulators live in registers).
constexpr size_t kTokensPerPass = 8;

inline float f16_load(const uint8_t* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Runs Kernel::template row<N>(w, r, act, t0, y) over rows [row_begin, row_end), for the
// tokens in passes of at most kTokensPerPass; the row stays in L1 between passes.
template <typename Kernel>
void for_rows_and_tokens(const Matrix& w, size_t row_begin, size_t row_end,
                         const Activations& act, size_t num_tokens, float* y) {
  for (size_t r = row_begin; r < row_end; ++r) {
    for (size_t t0 = 0; t0 < num_tokens; t0 += kTokensPerPass) {
      const size_t n = num_tokens - t0 < kTokensPerPass ? num_tokens - t0 : kTokensPerPass;
      switch (n) {
        case 1: Kernel::template row<1>(w, r, act, t0, y); break;
        case 2: Kernel::template row<2>(w, r, act, t0, y); break;
        case 3: Kernel::template row<3>(w, r, act, t0, y); break;
        case 4: Kernel::template row<4>(w, r, act, t0, y); break;
        case 5: Kernel::template row<5>(w, r, act, t0, y); break;
        case 6: Kernel::template row<6>(w, r, act, t0, y); break;
        case 7: Kernel::template row<7>(w, r, act, t0, y); break;
        default: Kernel::template row<8>(w, r, act, t0, y); break;
      }
    }
  }
}

}  // namespace
}  // namespace wafer::kernels::avx512
