// DraftModelProposer: longest common prefix against the draft's own cache, one batched
// catch-up forward, then one forward per drafted token.
#include "speculative/draft_model_proposer.h"

#include <algorithm>

namespace wafer {
namespace {

TokenId argmax(std::span<const float> logits) {
  return static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

}  // namespace

DraftModelProposer::DraftModelProposer(Model& draft, int64_t capacity, ThreadPool& pool)
    : model_(draft), pool_(pool), cache_(draft.new_cache(capacity)) {}

std::vector<TokenId> DraftModelProposer::propose(std::span<const TokenId> context, size_t max_k) {
  std::vector<TokenId> out;
  if (max_k == 0 || context.empty()) return out;
  // Keep what still matches, but recompute at least the last context token: its logits
  // give the first draft.
  size_t keep = static_cast<size_t>(std::mismatch(tokens_.begin(), tokens_.end(), context.begin(), context.end()).first -
                                    tokens_.begin());
  keep = std::min(keep, context.size() - 1);
  cache_.truncate(static_cast<int64_t>(keep));
  tokens_.resize(keep);
  auto logits = model_.forward(cache_, context.subspan(keep), false, pool_);
  ++forwards_;
  if (!logits) return out;
  tokens_.assign(context.begin(), context.end());
  for (;;) {
    const TokenId t = argmax(*logits);
    out.push_back(t);
    if (out.size() == max_k) break;
    const TokenId one[1] = {t};
    logits = model_.forward(cache_, one, false, pool_);
    ++forwards_;
    if (!logits) break;
    tokens_.push_back(t);
  }
  return out;
}

Status check_draft_compatible(const Model& target, const Model& draft) {
  const Tokenizer& a = target.tokenizer();
  const Tokenizer& b = draft.tokenizer();
  if (a.vocab_size() != b.vocab_size())
    return make_error(ErrorCode::kInvalidArgument,
                      "the draft model's tokenizer has {} tokens but the model's has {}; a draft model must "
                      "share the tokenizer (same family, e.g. a 0.5B drafting for a 7B)",
                      b.vocab_size(), a.vocab_size());
  for (size_t id = 0; id < a.vocab_size(); ++id) {
    const TokenId t = static_cast<TokenId>(id);
    if (a.token_text(t) != b.token_text(t))
      return make_error(ErrorCode::kInvalidArgument,
                        "the draft model's token {} is '{}' but the model's is '{}'; a draft model must share "
                        "the tokenizer", id, b.token_text(t), a.token_text(t));
  }
  if (draft.config().n_vocab < static_cast<int64_t>(a.vocab_size()))
    return make_error(ErrorCode::kInvalidArgument, "the draft model has {} embedding rows for {} tokens",
                      draft.config().n_vocab, a.vocab_size());
  return {};
}

}  // namespace wafer
