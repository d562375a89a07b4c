// AVX2 element-wise ops: RMS norm (sum of squares in double, like the reference) and
// SiLU-gated product with a vector exp (degree-7 polynomial after range reduction by ln 2,
// relative error ~1e-7; inputs clamped so 2^k stays a normal float, gates below -88 give 0).
#include "kernels/avx2/kernels.h"
#include "kernels/avx2/simd.h"

namespace wafer::kernels::avx2 {

void silu_mul(const float* gate, const float* up, size_t n, float* out) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g));
    __m256 s = _mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    // Below -88, exp(-g) no longer fits a float: silu(g) = g e^g is 0 to within 1e-36.
    s = _mm256_andnot_ps(_mm256_cmp_ps(g, _mm256_set1_ps(-88.0f), _CMP_LT_OQ), s);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
  }
  if (i == n) return;
  float g[8] = {}, u[8] = {}, o[8];
  for (size_t j = i; j < n; ++j) g[j - i] = gate[j], u[j - i] = up[j];
  silu_mul(g, u, 8, o);
  for (size_t j = i; j < n; ++j) out[j] = o[j - i];
}

void rms_norm(const float* x, const float* weight, float eps, size_t n, float* out) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    a0 = _mm256_fmadd_pd(lo, lo, a0);
    a1 = _mm256_fmadd_pd(hi, hi, a1);
  }
  const __m256d a = _mm256_add_pd(a0, a1);
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  double sum_sq = _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  for (size_t j = i; j < n; ++j) sum_sq += static_cast<double>(x[j]) * x[j];
  const float scale = static_cast<float>(1.0 / __builtin_sqrt(sum_sq / static_cast<double>(n) + eps));
  const __m256 vs = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(weight + i)));
  for (; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

}  // namespace wafer::kernels::avx2
