// Rotary position embedding: per-pair frequencies (with linear, YaRN or per-dim factor
// scaling) computed once at load; rotation applied per head.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace wafer {

class Rope {
 public:
  // freq_factors: optional per-pair divisors (Llama 3.1's rope_freqs.weight), size rope_dims/2.
  Rope(const ModelConfig& config, const std::vector<float>& freq_factors);

  // Fills cos/sin [rope_dims / 2] for a position (already multiplied by the YaRN mscale).
  void angles(int64_t pos, float* cos_out, float* sin_out) const;

  // Rotates `num_heads` heads of x, each `head_dim` floats, in place.
  void apply(float* x, size_t num_heads, const float* cos, const float* sin) const;

  int64_t num_pairs() const { return rope_dims_ / 2; }

 private:
  RopeStyle style_;
  int64_t head_dim_;
  int64_t rope_dims_;
  std::vector<double> inv_freq_;  // [rope_dims / 2], scaling folded in
  double mscale_ = 1.0;
};

}  // namespace wafer
