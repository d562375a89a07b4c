// Byte-level BPE merging: a pre-token starts as one symbol per byte, then the adjacent pair
// with the lowest merge rank (leftmost on ties) is merged until no ranked pair is left, as
// HF tokenizers' BPE model does.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace wafer {

// Working memory reused across the pre-tokens of one encode() call; one per thread.
struct BpeScratch {
  struct Symbol {
    TokenId id;      // -1 once merged into its left neighbour, or for a byte without a token
    int32_t prev;    // index of the previous live symbol, -1 at the start
    int32_t next;    // index of the next live symbol, -1 at the end
  };
  struct Candidate {
    int32_t rank;
    int32_t left;  // index of the left symbol
    TokenId left_id;
    TokenId right_id;
    TokenId result;
  };
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
};

// Immutable after create(); encode() may run on many threads, each with its own scratch.
class BpeModel {
 public:
  // merges: tokenizer.ggml.merges, "left right" in byte-level text, best (rank 0) first.
  // A merge naming a text the vocabulary lacks can never apply and is skipped; a repeated
  // pair keeps its best rank. Errors: a malformed entry, an ASCII byte without a token.
  static Result<BpeModel> create(const Vocab& vocab, const std::vector<std::string_view>& merges);

  // Appends the token ids of one pre-token given as raw bytes.
  void encode(std::string_view bytes, BpeScratch* scratch, std::vector<TokenId>* out) const;

  size_t num_merges() const { return merges_.size(); }

 private:
  struct Merge {
    int32_t rank;
    TokenId result;
  };
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  void push_candidate(int32_t left, BpeScratch* scratch) const;

  std::unordered_map<uint64_t, Merge> merges_;  // pair_key(left, right) -> merge
  std::array<TokenId, 256> byte_tokens_{};      // token of each byte's character, or -1
};

}  // namespace wafer
