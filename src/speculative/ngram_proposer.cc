// NgramProposer: keeps the output aligned with the prediction while it follows it, re-finds
// its place by n-gram after a divergence, and falls back to lookup in the context.
#include "speculative/ngram_proposer.h"

#include <algorithm>

namespace wafer {

NgramProposer::NgramProposer(std::vector<int32_t> prediction, Options options)
    : prediction_(std::move(prediction)), options_(options) {}

int64_t NgramProposer::find_continuation(std::span<const int32_t> haystack, std::span<const int32_t> context, int n,
                                         size_t search_end) {
  if (context.size() < static_cast<size_t>(n) || search_end < static_cast<size_t>(n)) return -1;
  const std::span<const int32_t> suffix = context.subspan(context.size() - static_cast<size_t>(n));
  // Most recent first: nearby repetitions are the likeliest to continue.
  for (size_t end = search_end; end >= static_cast<size_t>(n); --end) {
    if (std::equal(suffix.begin(), suffix.end(), haystack.begin() + static_cast<std::ptrdiff_t>(end) - n)) {
      return static_cast<int64_t>(end);
    }
  }
  return -1;
}

std::vector<int32_t> NgramProposer::propose(std::span<const int32_t> context, size_t output_start, size_t max_k,
                                            bool* from_prediction) {
  *from_prediction = false;
  if (max_k == 0) return {};
  if (!prediction_.empty()) {
    if (!started_) {
      aligned_ = 0;
      seen_ = output_start;
      started_ = true;
    }
    // Follow the tokens generated since the last call along the prediction.
    for (size_t i = seen_; i < context.size(); ++i) {
      if (aligned_ >= 0 && static_cast<size_t>(aligned_) < prediction_.size() && prediction_[aligned_] == context[i]) {
        ++aligned_;
        last_good_ = aligned_;
      } else {
        aligned_ = -1;
      }
    }
    seen_ = context.size();
    // Lost: the output's last n tokens in the prediction, first at or after where it was
    // last aligned (an edit rejoins the original further on), else anywhere.
    const std::span<const int32_t> output = context.subspan(output_start);
    for (int n = options_.max_ngram; aligned_ < 0 && n >= options_.min_ngram; --n) {
      if (output.size() < static_cast<size_t>(n)) continue;
      const std::span<const int32_t> suffix = output.subspan(output.size() - static_cast<size_t>(n));
      auto it = std::search(prediction_.begin() + std::min<int64_t>(last_good_, static_cast<int64_t>(prediction_.size())),
                            prediction_.end(), suffix.begin(), suffix.end());
      if (it != prediction_.end()) aligned_ = (it - prediction_.begin()) + n;
    }
    for (int n = options_.max_ngram; aligned_ < 0 && n >= options_.min_ngram; --n) {
      aligned_ = find_continuation(prediction_, output, n, prediction_.size());
    }
    if (aligned_ >= 0 && static_cast<size_t>(aligned_) < prediction_.size()) {
      const size_t take = std::min(max_k, prediction_.size() - static_cast<size_t>(aligned_));
      *from_prediction = true;
      return {prediction_.begin() + aligned_, prediction_.begin() + aligned_ + static_cast<std::ptrdiff_t>(take)};
    }
  }
  if (!options_.lookup_context) return {};
  for (int n = options_.max_ngram; n >= options_.min_ngram; --n) {
    // Earlier occurrences only: the suffix itself ends at context.size().
    const int64_t at = find_continuation(context, context, n, context.size() - 1);
    if (at < 0) continue;
    const size_t take = std::min(max_k, context.size() - static_cast<size_t>(at));
    return {context.begin() + at, context.begin() + at + static_cast<std::ptrdiff_t>(take)};
  }
  return {};
}

}  // namespace wafer
