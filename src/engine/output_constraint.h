// A request's grammar as the decode loop applies it: from the first token, or lazily (a
// strict tool's call is constrained only once the model opens one: after the trigger text,
// until the call is complete, then again at the next trigger). Engine thread only.
#pragma once

#include <memory>
#include <string>

#include "sampling/token_constraint.h"

namespace wafer {

class OutputConstraint {
 public:
  OutputConstraint(std::shared_ptr<const Grammar> grammar, std::string trigger,
                   std::shared_ptr<const VocabIndex> vocab, std::shared_ptr<MaskCache> cache);

  // Draws the next token: masked and budget-aware while the grammar applies, else plain.
  int32_t sample(Sampler& sampler, std::span<float> logits, int64_t tokens_left);
  // Records the token drawn. True when the output is complete and generation must end (a
  // grammar applied from the start has nothing more to add).
  bool accept(int32_t token);
  bool active() const { return active_; }
  // How many leading tokens of a speculative draft the grammar allows from here.
  size_t draft_prefix(std::span<const int32_t> draft) {
    return active_ ? constraint_.valid_prefix(draft) : draft.size();
  }
  const ConstraintStats& stats() const { return constraint_.stats(); }

 private:
  GrammarConstraint constraint_;
  std::shared_ptr<const VocabIndex> vocab_;
  std::string trigger_;
  std::string window_;  // lazily: recent output bytes, searched for the trigger
  bool active_;
};

}  // namespace wafer
