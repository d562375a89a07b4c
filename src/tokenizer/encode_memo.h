// Remembers the token ids of long texts encoded recently, so a conversation resent or
// continued turn after turn tokenises only its new messages. Encoding is a pure function of
// the text, so a hit is exactly what encoding again would give. Thread-safe; bounded in bytes
// (least recently used texts go first).
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace wafer {

class EncodeMemo {
 public:
  // Texts shorter than min_bytes are encoded directly. By default every text is kept: each
  // encode call has a fixed cost (pre-tokenising, allocations) that a hash lookup does not,
  // and a rendered conversation is mostly short pieces (role headers, separators): with a
  // 256-byte floor they took ~100 of the ~250 us a WebSocket turn spent encoding.
  explicit EncodeMemo(size_t budget_bytes = size_t{32} << 20, size_t min_bytes = 0);

  // tokenizer.encode(text, false, false), from memory when this text was seen lately. One
  // memo serves one tokenizer.
  std::vector<TokenId> encode(const Tokenizer& tokenizer, std::string_view text);

  size_t hits() const;
  size_t bytes() const;

 private:
  struct Entry {
    std::string text;
    std::vector<TokenId> ids;
  };
  size_t entry_bytes(const Entry& e) const { return e.text.size() + e.ids.size() * sizeof(TokenId) + 64; }

  const size_t budget_bytes_;
  const size_t min_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // keys view lru_ texts
  size_t bytes_ = 0;
  size_t hits_ = 0;
};

}  // namespace wafer
