// Byte-level BPE merging: a pre-token starts as one symbol per byte, then the adjacent pair
// with the lowest merge rank (leftmost on ties) is merged until no ranked pair is left, as
// HF tokenizers' BPE model does.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
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

// The ids of short pre-tokens encoded lately, so text that repeats words (tool outputs,
// code) skips their merges. Direct-mapped: a word evicts whatever shared its slot. Encoding
// is a pure function of the word's bytes, so a hit is exactly what merging again gives.
// One per thread and tokenizer (not thread-safe).
class BpeWordCache {
 public:
  static constexpr size_t kMaxWordBytes = 30;
  static constexpr size_t kMaxIds = 8;

  BpeWordCache() : entries_(kEntries) {}
  // Appends the word's ids to *out and returns true when it is remembered.
  bool find(std::string_view word, std::vector<TokenId>* out) const;
  // Remembers ids for word (ignored when either is too long to keep).
  void store(std::string_view word, const TokenId* ids, size_t count);

 private:
  static constexpr size_t kEntries = 4096;  // 256 KiB
  struct alignas(64) Entry {
    uint8_t length = 0;  // 0: empty (words of one byte never come here)
    uint8_t count = 0;
    char text[kMaxWordBytes];
    TokenId ids[kMaxIds];
  };
  static size_t slot_of(std::string_view word);
  std::vector<Entry> entries_;
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

  size_t num_merges() const { return num_merges_; }

 private:
  // One slot of the merge table: open addressing, linear probing, kEmpty where unused. A
  // lookup is mostly one cache line (a node-based map took three misses per pair, and
  // encoding fresh text right after the engine's forwards is bound by those misses).
  struct MergeSlot {
    uint64_t key;
    int32_t rank;
    TokenId result;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // no pair of two valid ids has this key
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
  const MergeSlot* find_merge(uint64_t key) const;
  // Keeps the best (lowest) rank of a pair listed twice.
  void insert_merge(uint64_t key, int32_t rank, TokenId result);
  void push_candidate(int32_t left, BpeScratch* scratch) const;

  std::vector<MergeSlot> merges_;          // a power of two, at most half full
  int shift_ = 64;                         // 64 - log2(merges_.size())
  size_t num_merges_ = 0;
  std::array<TokenId, 256> byte_tokens_{};  // token of each byte's character, or -1
};

}  // namespace wafer
