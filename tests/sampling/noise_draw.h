// Test helper: generation under a grammar from noise logits, the stand-in for a random-weight
// model (which emits noise): only the constraint can make such output well-formed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sampling/token_constraint.h"

namespace wafer::test {

// Logits uniform in [-4, 4) from splitmix64.
struct Noise {
  explicit Noise(uint64_t seed) : state(seed) {}
  void fill(std::vector<float>& logits) {
    for (float& l : logits) {
      uint64_t z = (state += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      l = static_cast<float>(z >> 40) * (8.0f / 16777216.0f) - 4.0f;
    }
  }
  uint64_t state;
};

// Draws up to `budget` tokens (stopping at an end token or when the grammar is complete)
// with `params` (temperature, seed, ...); the bytes, or nullopt if the constraint refused a
// token it had allowed or could not end.
inline std::optional<std::string> draw_from_noise(GrammarConstraint& constraint, const VocabIndex& vocab,
                                                  const SamplingParams& params, uint64_t noise_seed, int64_t budget) {
  Sampler sampler(params, vocab.vocab_size());
  Noise noise(noise_seed);
  std::vector<float> logits(vocab.vocab_size());
  std::string out;
  for (int64_t step = 0; step < budget && !constraint.done(); ++step) {
    noise.fill(logits);
    const int32_t t = constraint.sample(sampler, logits, budget - step);
    if (vocab.is_end(t)) return constraint.can_end() ? std::optional<std::string>(out) : std::nullopt;
    if (!constraint.accept(t)) return std::nullopt;
    sampler.accept(t);
    out += vocab.bytes(t);
  }
  if (!constraint.can_end()) return std::nullopt;
  return out;
}

inline SamplingParams sampling(float temperature, uint64_t seed) {
  SamplingParams p;
  p.temperature = temperature;
  p.seed = seed;
  return p;
}

}  // namespace wafer::test
