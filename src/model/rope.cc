// RoPE frequencies. YaRN (as Qwen2.5 uses for 128k context) blends interpolated and
// extrapolated frequencies per dimension pair with a linear ramp between the pairs whose
// wavelength spans beta_fast and beta_slow rotations over the original context.
#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace wafer {
namespace {

// The pair index at which a frequency completes `rotations` turns over `orig_ctx` positions.
double yarn_corr_dim(int64_t n_dims, int64_t orig_ctx, double rotations, double base) {
  return n_dims * std::log(orig_ctx / (rotations * 2 * std::numbers::pi)) / (2 * std::log(base));
}

}  // namespace

Rope::Rope(const ModelConfig& config, const std::vector<float>& freq_factors)
    : style_(config.rope_style), head_dim_(config.head_dim), rope_dims_(config.rope_dims) {
  const int64_t pairs = rope_dims_ / 2;
  inv_freq_.resize(pairs);
  const double freq_scale = 1.0 / config.rope_scale_factor;
  double low = 0, high = 0;
  if (config.rope_scaling == RopeScaling::kYarn) {
    low = std::max(0.0, std::floor(yarn_corr_dim(rope_dims_, config.rope_orig_ctx,
                                                 config.yarn_beta_fast, config.rope_base)));
    high = std::min(static_cast<double>(rope_dims_ - 1),
                    std::ceil(yarn_corr_dim(rope_dims_, config.rope_orig_ctx,
                                            config.yarn_beta_slow, config.rope_base)));
    mscale_ = config.yarn_attn_factor * (1.0 + 0.1 * std::log(1.0 / freq_scale));
  }
  for (int64_t i = 0; i < pairs; ++i) {
    double extrap = std::pow(static_cast<double>(config.rope_base), -2.0 * i / rope_dims_);
    if (!freq_factors.empty()) extrap /= freq_factors[i];
    double f = extrap;
    if (config.rope_scaling == RopeScaling::kLinear) {
      f = extrap * freq_scale;
    } else if (config.rope_scaling == RopeScaling::kYarn) {
      // ramp = 1 keeps the extrapolated (original) frequency, 0 the interpolated one
      const double y = (i - low) / std::max(0.001, high - low);
      const double ramp = 1.0 - std::clamp(y, 0.0, 1.0);
      f = extrap * freq_scale * (1.0 - ramp) + extrap * ramp;
    }
    inv_freq_[i] = f;
  }
}

void Rope::angles(int64_t pos, float* cos_out, float* sin_out) const {
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    const double theta = static_cast<double>(pos) * inv_freq_[i];
    cos_out[i] = static_cast<float>(std::cos(theta) * mscale_);
    sin_out[i] = static_cast<float>(std::sin(theta) * mscale_);
  }
}

void Rope::apply(float* x, size_t num_heads, const float* cos, const float* sin) const {
  const int64_t pairs = rope_dims_ / 2;
  for (size_t h = 0; h < num_heads; ++h) {
    float* v = x + h * head_dim_;
    for (int64_t i = 0; i < pairs; ++i) {
      // neox rotates (i, i + d/2); normal rotates adjacent pairs (2i, 2i + 1)
      const int64_t a = style_ == RopeStyle::kNeox ? i : 2 * i;
      const int64_t b = style_ == RopeStyle::kNeox ? i + pairs : 2 * i + 1;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * cos[i] - x1 * sin[i];
      v[b] = x0 * sin[i] + x1 * cos[i];
    }
  }
}

}  // namespace wafer
