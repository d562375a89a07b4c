// Drafts from a second, smaller model that shares the target's tokenizer (`--draft MODEL`):
// it keeps its own KV cache of the sequence, catches up on whatever the target accepted since
// the last call (usually one or two tokens), then continues greedily. Not thread-safe; one
// per generation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/thread_pool.h"
#include "model/model.h"

namespace wafer {

class DraftModelProposer {
 public:
  // capacity: the most positions the sequence may reach (the target's context).
  DraftModelProposer(Model& draft, int64_t capacity, ThreadPool& pool);

  // Up to max_k tokens the draft model expects after `context` (prompt and output so far);
  // empty when max_k is 0 or the draft's context is full.
  std::vector<TokenId> propose(std::span<const TokenId> context, size_t max_k);

  int64_t forwards() const { return forwards_; }  // draft forward passes run

 private:
  Model& model_;
  ThreadPool& pool_;
  KvCache cache_;
  std::vector<TokenId> tokens_;  // exactly the positions held in cache_
  int64_t forwards_ = 0;
};

// Error (kInvalidArgument) unless `draft` can draft for `target`: the same token texts at
// every id, and an embedding row for each.
Status check_draft_compatible(const Model& target, const Model& draft);

}  // namespace wafer
