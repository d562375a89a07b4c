// OutputConstraint: trigger search over the output bytes and the switch into the grammar.
#include "engine/output_constraint.h"

namespace wafer {

OutputConstraint::OutputConstraint(std::shared_ptr<const Grammar> grammar, std::string trigger,
                                   std::shared_ptr<const VocabIndex> vocab, std::shared_ptr<MaskCache> cache)
    : constraint_(std::move(grammar), vocab, std::move(cache)), vocab_(std::move(vocab)), trigger_(std::move(trigger)),
      active_(trigger_.empty()) {}

int32_t OutputConstraint::sample(Sampler& sampler, std::span<float> logits, int64_t tokens_left) {
  if (!active_) return sampler.sample(logits);
  return constraint_.sample(sampler, logits, tokens_left);
}

bool OutputConstraint::accept(int32_t token) {
  if (active_) {
    if (!constraint_.accept(token)) {
      // Only a token the mask allowed is drawn; a vocabulary lacking every byte the grammar
      // needs could still force one: stop constraining rather than corrupt the state.
      active_ = false;
      return false;
    }
    if (!constraint_.done()) return false;
    if (trigger_.empty()) return true;
    active_ = false;
    constraint_.reset();
    window_.clear();
    return false;
  }
  if (trigger_.empty() || static_cast<size_t>(token) >= vocab_->vocab_size()) return false;
  window_ += vocab_->bytes(token);
  const size_t at = window_.find(trigger_);
  if (at == std::string::npos) {
    if (window_.size() > trigger_.size()) window_.erase(0, window_.size() - trigger_.size());
    return false;
  }
  const std::string rest = window_.substr(at + trigger_.size());
  window_.clear();
  constraint_.reset();
  active_ = rest.empty() || constraint_.accept_text(rest);
  return false;
}

}  // namespace wafer
