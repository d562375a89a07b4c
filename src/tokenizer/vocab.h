// The token table of a byte-level BPE tokenizer: stored texts and types, lookup by text, the
// bytes each token decodes to, and the special tokens encode() cuts out of text first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace wafer {

// Immutable after construction; move-only (the text index points into its own storage).
class Vocab {
 public:
  // texts: one per token id, as stored in the GGUF. types: same length, or empty (all normal).
  Vocab(const std::vector<std::string_view>& texts, std::vector<TokenType> types);
  Vocab(Vocab&&) = default;
  Vocab& operator=(Vocab&&) = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  size_t size() const { return types_.size(); }
  bool contains(TokenId id) const { return id >= 0 && static_cast<size_t>(id) < size(); }
  std::string_view text(TokenId id) const { return slice(text_arena_, text_offsets_, id); }
  TokenType type(TokenId id) const { return types_[id]; }
  // What the token stands for: byte-level decoded for ordinary tokens, the stored text for
  // control / user-defined / unknown tokens, the byte itself for <0xNN> byte tokens.
  std::string_view bytes(TokenId id) const { return slice(bytes_arena_, bytes_offsets_, id); }
  std::optional<TokenId> find(std::string_view text) const;

  // Control, user-defined and unknown tokens with non-empty text, longest text first (ties by
  // id), the order in which encode() looks for them.
  const std::vector<TokenId>& special_tokens() const { return special_tokens_; }

 private:
  static std::string_view slice(const std::vector<char>& arena,
                                const std::vector<uint32_t>& offsets, TokenId id) {
    return {arena.data() + offsets[id], offsets[id + 1] - offsets[id]};
  }

  std::vector<char> text_arena_;  // all texts back to back; vector so moves keep the address
  std::vector<uint32_t> text_offsets_;  // [size + 1]
  std::vector<char> bytes_arena_;
  std::vector<uint32_t> bytes_offsets_;  // [size + 1]
  std::vector<TokenType> types_;
  std::unordered_map<std::string_view, TokenId> index_;  // views into text_arena_
  std::vector<TokenId> special_tokens_;
};

}  // namespace wafer
