// Sampler: logit bias, penalties, then greedy or a seeded draw after top-k / top-p / min-p.
// Built for 150k-token vocabularies: top-k is one heap pass, top-p a radix select (no full
// sort), and the draw uses a platform-independent uniform so seeds replay everywhere.
#include "sampling/sampler.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "base/check.h"

namespace wafer {
namespace {

using Candidate = std::pair<float, int32_t>;  // (logit or weight, token)

// Higher value first; on equal values the lower token id first (matches argmax).
bool better(const Candidate& a, const Candidate& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// The top k logits as candidates sorted by better(). One pass with a k-sized min-heap: on
// typical logits few elements beat the heap's worst, so this is close to a linear scan.
// NaN logits never enter (comparisons with NaN are false).
void select_top_k(std::span<const float> logits, size_t k, std::vector<Candidate>& out) {
  out.clear();
  out.reserve(k);
  size_t i = 0;
  for (; i < logits.size() && out.size() < k; ++i) {
    if (std::isnan(logits[i])) continue;
    out.emplace_back(logits[i], static_cast<int32_t>(i));
    std::push_heap(out.begin(), out.end(), better);  // front = worst kept
  }
  for (; i < logits.size(); ++i) {
    // Scanning in id order, a later token must be strictly larger to displace an equal one.
    if (!(logits[i] > out.front().first)) continue;
    std::pop_heap(out.begin(), out.end(), better);
    out.back() = {logits[i], static_cast<int32_t>(i)};
    std::push_heap(out.begin(), out.end(), better);
  }
  std::sort_heap(out.begin(), out.end(), better);
}

// Relative weight exp((logit - max_logit) / temperature), in [0, 1]; NaN becomes 0.
float weight_of(float logit, float max_logit, float temperature) {
  const float w = std::exp((logit - max_logit) / temperature);
  return w > 0.0f ? w : 0.0f;
}

// How many of the first candidates (already sorted by better()) it takes for their weights
// to reach target; at least 1.
size_t sorted_prefix_reaching(std::span<const Candidate> cands, double target) {
  double cumulative = 0.0;
  for (size_t i = 0; i < cands.size(); ++i) {
    cumulative += cands[i].first;
    if (cumulative >= target) return i + 1;
  }
  return cands.size();
}

// Reorders candidates (weights in (0, 1], any order) so the shortest better()-ordered prefix
// whose weights reach target comes first, in no particular order, and returns its length.
// A radix select on the float bits (monotonic for positive floats): each pass buckets the
// undecided group by 11 more bits, keeps the buckets above the one where the cumulative
// weight crosses target, drops those below, and narrows to the crossing bucket. O(n) with no
// full sort, however flat the distribution.
size_t nucleus_size(std::span<Candidate> cands, double target) {
  struct Pass {
    int shift;
    uint32_t mask;
  };
  constexpr Pass kPasses[] = {{19, 0x7FF}, {8, 0x7FF}, {0, 0xFF}};
  constexpr size_t kSortBelow = 64;
  auto bits_of = [](const Candidate& c) { return std::bit_cast<uint32_t>(c.first); };
  size_t lo = 0;  // cands[0, lo) are kept; cands[lo, hi) are undecided
  size_t hi = cands.size();
  double cumulative = 0.0;  // weight of cands[0, lo)
  for (const Pass& pass : kPasses) {
    if (hi - lo <= kSortBelow) break;
    auto key = [&](const Candidate& c) { return (bits_of(c) >> pass.shift) & pass.mask; };
    std::array<double, 2048> mass{};
    for (size_t i = lo; i < hi; ++i) mass[key(cands[i])] += cands[i].first;
    int64_t crossing = -1;
    for (int64_t b = 2047; b >= 0; --b) {
      if (cumulative + mass[b] >= target) {
        crossing = b;
        break;
      }
      cumulative += mass[b];
    }
    if (crossing < 0) return hi;  // rounding left target unreached: keep everything
    const auto bucket = static_cast<uint32_t>(crossing);
    const auto first = cands.begin() + static_cast<ptrdiff_t>(lo);
    const auto above = std::partition(first, cands.begin() + static_cast<ptrdiff_t>(hi),
                                      [&](const Candidate& c) { return key(c) > bucket; });
    const auto end = std::partition(above, cands.begin() + static_cast<ptrdiff_t>(hi),
                                    [&](const Candidate& c) { return key(c) == bucket; });
    lo = static_cast<size_t>(above - cands.begin());
    hi = static_cast<size_t>(end - cands.begin());
  }
  const auto first = cands.begin() + static_cast<ptrdiff_t>(lo);
  const auto last = cands.begin() + static_cast<ptrdiff_t>(hi);
  if (hi - lo > kSortBelow) {
    // Every pass ran, so the group holds one weight: take the lowest ids, as better() would.
    const double w = first->first;
    size_t take = 0;
    while (take < hi - lo && cumulative < target) {
      cumulative += w;
      ++take;
    }
    std::nth_element(first, first + static_cast<ptrdiff_t>(take) - 1, last, better);
    return lo + take;
  }
  std::sort(first, last, better);
  return lo + sorted_prefix_reaching(std::span<const Candidate>(first, last), target - cumulative);
}

// Draws from candidates holding non-negative weights (need not be normalised).
int32_t draw(std::span<const Candidate> cands, double u) {
  double total = 0.0;
  for (const Candidate& c : cands) total += c.first;
  const double target = u * total;
  double cumulative = 0.0;
  for (const Candidate& c : cands) {
    cumulative += c.first;
    if (cumulative > target) return c.second;
  }
  // Rounding left the target at the very end: the last positive weight owns it.
  for (size_t i = cands.size(); i > 0; --i) {
    if (cands[i - 1].first > 0.0f) return cands[i - 1].second;
  }
  return cands.front().second;
}

}  // namespace

Status SamplingParams::validate() const {
  if (!std::isfinite(temperature) || temperature < 0.0f) {
    return make_error(ErrorCode::kInvalidArgument,
                      "temperature must be a finite number >= 0, got {}", temperature);
  }
  if (top_k < 0) {
    return make_error(ErrorCode::kInvalidArgument, "top_k must be >= 0 (0 = off), got {}",
                      top_k);
  }
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    return make_error(ErrorCode::kInvalidArgument, "top_p must be in (0, 1], got {}", top_p);
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    return make_error(ErrorCode::kInvalidArgument, "min_p must be in [0, 1], got {}", min_p);
  }
  if (!std::isfinite(repetition_penalty) || repetition_penalty <= 0.0f) {
    return make_error(ErrorCode::kInvalidArgument,
                      "repetition_penalty must be a finite number > 0 (1 = off), got {}",
                      repetition_penalty);
  }
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "frequency_penalty must be in [-2, 2], got {}", frequency_penalty);
  }
  if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "presence_penalty must be in [-2, 2], got {}", presence_penalty);
  }
  if (penalty_last_n < -1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "penalty_last_n must be >= -1 (-1 = whole context), got {}",
                      penalty_last_n);
  }
  for (const auto& [token, bias] : logit_bias) {
    if (token < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "logit_bias token id must be >= 0, got {}", token);
    }
    if (!(bias >= -100.0f && bias <= 100.0f)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "logit_bias for token {} must be in [-100, 100], got {}", token, bias);
    }
  }
  return {};
}

int32_t argmax(std::span<const float> logits) {
  WAFER_CHECK(!logits.empty(), "argmax of an empty logits row");
  size_t best = 0;
  float best_value = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > best_value) {
      best_value = logits[i];
      best = i;
    }
  }
  return static_cast<int32_t>(best);
}

Sampler::Sampler(SamplingParams params, size_t vocab_size)
    : params_(std::move(params)), vocab_size_(vocab_size), rng_(params_.seed) {}

void Sampler::accept(int32_t token) {
  if (params_.penalty_last_n == 0) return;
  recent_.push_back(token);
  ++counts_[token];
  const auto limit = static_cast<size_t>(params_.penalty_last_n);
  while (params_.penalty_last_n > 0 && recent_.size() > limit) {
    const int32_t old = recent_.front();
    recent_.pop_front();
    if (--counts_[old] == 0) counts_.erase(old);
  }
}

void Sampler::apply_logit_bias(std::span<float> logits) const {
  for (const auto& [token, bias] : params_.logit_bias) {
    if (token >= 0 && static_cast<size_t>(token) < logits.size()) logits[token] += bias;
  }
}

void Sampler::apply_penalties(std::span<float> logits) const {
  const float repetition = params_.repetition_penalty;
  const float frequency = params_.frequency_penalty;
  const float presence = params_.presence_penalty;
  if (repetition == 1.0f && frequency == 0.0f && presence == 0.0f) return;
  for (const auto& [token, count] : counts_) {
    if (token < 0 || static_cast<size_t>(token) >= logits.size()) continue;
    float& logit = logits[token];
    // Dividing a positive logit and multiplying a negative one both push it down.
    logit = logit > 0.0f ? logit / repetition : logit * repetition;
    logit -= static_cast<float>(count) * frequency + presence;
  }
}

double Sampler::next_uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(std::span<float> logits) {
  WAFER_CHECK(logits.size() == vocab_size_, "logits row has {} entries, sampler vocab is {}",
              logits.size(), vocab_size_);
  apply_logit_bias(logits);
  apply_penalties(logits);
  if (params_.temperature <= 0.0f) return argmax(logits);

  const double u = next_uniform();  // drawn every time so the stream never depends on filters
  const float temperature = params_.temperature;
  const float min_weight = params_.min_p;  // p < min_p * p_max  <=>  weight < min_p
  const bool use_top_p = params_.top_p < 1.0f;
  const size_t top_k = static_cast<size_t>(std::max(params_.top_k, 0));

  if (top_k > 0 && top_k < logits.size()) {
    select_top_k(logits, top_k, candidates_);
    if (candidates_.empty() || !std::isfinite(candidates_.front().first)) return argmax(logits);
    const float max_logit = candidates_.front().first;
    double total = 0.0;
    for (Candidate& c : candidates_) {
      c.first = weight_of(c.first, max_logit, temperature);
      total += c.first;
    }
    // Sorted already, so top-p and min-p each keep a prefix.
    size_t keep = candidates_.size();
    if (use_top_p) keep = sorted_prefix_reaching(candidates_, params_.top_p * total);
    while (keep > 1 && !(candidates_[keep - 1].first >= min_weight)) --keep;
    return draw(std::span<const Candidate>(candidates_.data(), keep), u);
  }

  float max_logit = -std::numeric_limits<float>::infinity();
  for (float logit : logits) max_logit = std::max(max_logit, logit);  // max() skips NaN here
  if (!std::isfinite(max_logit)) return argmax(logits);
  // One pass computes the softmax total over the whole vocabulary and keeps only tokens
  // that pass min-p; top-p then keeps a prefix of those in probability order.
  // Written unconditionally, advanced only on a keep: no branch to mispredict.
  if (candidates_.size() < logits.size()) candidates_.resize(logits.size());
  size_t kept = 0;
  double total = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float w = weight_of(logits[i], max_logit, temperature);
    total += w;
    candidates_[kept] = {w, static_cast<int32_t>(i)};
    kept += (w > 0.0f) & (w >= min_weight);
  }
  const std::span<Candidate> survivors(candidates_.data(), kept);
  const size_t keep = use_top_p ? nucleus_size(survivors, params_.top_p * total) : kept;
  return draw(survivors.first(keep), u);
}

}  // namespace wafer
