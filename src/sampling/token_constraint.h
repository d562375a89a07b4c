// Grammar-constrained sampling over a real vocabulary. Each step masks every token whose
// bytes the grammar cannot take next (tokens may straddle grammar boundaries or end inside a
// UTF-8 character: the grammar runs over bytes). The mask is cheap because most of it is
// cached per parse position: for the top few frames of a stack, the tokens that stay inside
// those frames are classified once (accepted / rejected); only the tokens that would pop
// below them are checked against the live stack each step.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sampling/grammar.h"
#include "sampling/grammar_matcher.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace wafer {

// The vocabulary's token bytes sorted, so that tokens sharing a prefix are walked once.
// Immutable after construction; share between requests and threads.
class VocabIndex {
 public:
  // token_bytes[id]: the bytes of token id; empty for tokens constrained output never
  // contains (control tokens). end_tokens: the ids that end a turn (EOS, EOT).
  VocabIndex(std::vector<std::string> token_bytes, std::vector<int32_t> end_tokens);

  size_t vocab_size() const { return bytes_.size(); }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }
  const std::vector<int32_t>& sorted() const { return sorted_; }
  // lcp()[i]: bytes shared by sorted()[i-1] and sorted()[i] (0 for i = 0).
  const std::vector<uint16_t>& lcp() const { return lcp_; }
  const std::vector<int32_t>& end_tokens() const { return end_tokens_; }
  bool is_end(int32_t id) const;
  // The token whose bytes are exactly `bytes`, or -1.
  int32_t find(std::string_view bytes) const;
  size_t max_token_bytes() const { return max_len_; }

 private:
  std::vector<std::string> bytes_;
  std::vector<int32_t> sorted_;
  std::vector<uint16_t> lcp_;
  std::vector<int32_t> end_tokens_;
  std::unordered_map<std::string_view, int32_t> by_bytes_;
  size_t max_len_ = 0;
};

// The index of a model's tokenizer: every token but control tokens (which constrained text
// never contains) by its bytes; end-of-generation tokens as the end tokens.
std::shared_ptr<const VocabIndex> make_vocab_index(const Tokenizer& tokenizer);

struct ConstraintStats {
  int64_t masks = 0;            // steps masked
  int64_t cache_entries = 0;    // parse positions analysed
  int64_t checked_tokens = 0;   // tokens checked against the live stack
  int64_t resamples = 0;        // draws refused because they could not close in budget
};

// The analysed parse positions of one grammar over one vocabulary. Requests whose grammars
// are equal (fingerprint()) can share one, so an agent's strict tools or response format are
// analysed once, not per turn. Not thread-safe (the engine thread owns it).
struct MaskCache {
  struct Entry {
    std::vector<uint64_t> accepted;  // bitset over token ids
    std::vector<int32_t> uncertain;  // need the live stack below the cached frames
  };
  std::map<std::vector<uint32_t>, Entry> entries;
};

// A hash of everything that decides what a grammar accepts (equal grammars, equal value).
uint64_t fingerprint(const Grammar& grammar);

// One constrained generation. Not thread-safe; lives on the engine thread.
class GrammarConstraint {
 public:
  // cache: shared analysis for this grammar and vocabulary (null: a private one).
  GrammarConstraint(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const VocabIndex> vocab,
                    std::shared_ptr<MaskCache> cache = nullptr);

  // Masks logits [n_vocab] (ids past the index are masked too) and draws with `sampler`.
  // tokens_left: how many tokens may still be generated, this one included. A draw that
  // could not finish the grammar within that budget (counting one end token) is refused
  // and redrawn, so output always closes when the budget allows it at all.
  int32_t sample(Sampler& sampler, std::span<float> logits, int64_t tokens_left);
  // Sets logits of tokens the grammar cannot take next to -inf (end tokens unless it can end).
  void mask(std::span<float> logits);
  // The shortest bytes that complete the grammar from the committed state.
  std::string shortest_completion_text() { return shortest_completion(SIZE_MAX); }
  // How many leading tokens of `tokens` the grammar takes from the committed state (a
  // speculative draft is cut there); changes nothing.
  size_t valid_prefix(std::span<const int32_t> tokens);
  // Commits a token; false (state unchanged) when the grammar rejects it.
  bool accept(int32_t token);
  bool accept_text(std::string_view bytes) { return matcher_.accept_bytes(bytes); }
  bool can_end() const { return matcher_.can_end(); }
  bool done() const { return matcher_.done(); }
  bool saturated() const { return matcher_.saturated(); }  // see GrammarMatcher::saturated
  void reset() { matcher_.reset(); }
  const ConstraintStats& stats() const { return stats_; }
  // The allowed-token set for the committed state (tests: compare against brute force).
  std::vector<uint8_t> allowed_tokens();

 private:
  using Entry = MaskCache::Entry;
  const Entry& entry_for(int32_t head);
  Entry compute_entry(const std::vector<uint32_t>& frames, int32_t bottom);
  bool token_allowed_from(int32_t head, const std::string& bytes);
  // Bytes still needed after `token` (UINT32_MAX if rejected; 0 if it completes the grammar).
  uint32_t remaining_after(int32_t token);
  // The shortest bytes that complete the grammar from the committed state (at most max_bytes
  // of them: the closing token needs only its own length).
  std::string shortest_completion(size_t max_bytes);
  // The longest token that starts the shortest completion (or an end token when complete).
  int32_t closing_token();
  void fill_allowed();

  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const VocabIndex> vocab_;
  GrammarMatcher matcher_;
  std::shared_ptr<MaskCache> cache_;
  std::vector<uint64_t> allowed_;  // scratch: bitset of the step's allowed tokens
  std::vector<float> saved_;       // scratch: masked logits kept for redraws
  ConstraintStats stats_;
};

}  // namespace wafer
