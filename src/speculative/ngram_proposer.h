// Drafts for speculative decoding, without a second model: the tokens that followed the
// longest recent n-gram, found in a prediction (the request's `prediction`: an edit's
// unchanged text) or in the context so far (prompt lookup: code and agents repeat what they
// have seen). Not thread-safe; one per generation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace wafer {

class NgramProposer {
 public:
  struct Options {
    int max_ngram = 4;           // longest suffix matched
    int min_ngram = 2;           // shortest suffix matched
    bool lookup_context = true;  // also search the prompt and output (prompt lookup)
  };
  NgramProposer(std::vector<int32_t> prediction, Options options);

  // `context` is prompt + output so far; output_start is where the output begins. Returns up
  // to max_k tokens that may come next (empty: nothing to propose). *from_prediction says
  // whether they come from the prediction (usage counts those).
  std::vector<int32_t> propose(std::span<const int32_t> context, size_t output_start, size_t max_k,
                               bool* from_prediction);

 private:
  // Index just past the most recent earlier occurrence in `haystack` of the last n tokens of
  // `context`, or -1.
  static int64_t find_continuation(std::span<const int32_t> haystack, std::span<const int32_t> context, int n,
                                   size_t search_end);

  std::vector<int32_t> prediction_;
  Options options_;
  int64_t aligned_ = -1;  // prediction index the next output token is expected at; -1: lost
  int64_t last_good_ = 0; // where the output was last aligned
  size_t seen_ = 0;       // context length at the last propose()
  bool started_ = false;
};

}  // namespace wafer
